'use strict';
// Starts a real tender binary on a free 127.0.0.1 port with a fresh data directory, master key
// and merchant, and hands out clients for it: the official stripe-node SDK and raw HTTP.
const { spawn, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const http = require('node:http');
const assert = require('node:assert/strict');
const Stripe = require('stripe');

const ROOT = path.resolve(__dirname, '..', '..');
const BIN = process.env.TENDER_BIN || path.join(ROOT, 'build', 'tender');
const SHARED = process.env.TENDER_SHARED || path.resolve(ROOT, '..', 'shared');
const validator = require(path.join(SHARED, 'tools', 'stripe-openapi-validate.js'));

// ---- PostgreSQL shards (issue 9; owned by the store helper) -------------------------------
// When TENDER_DATABASE_URLS is set (space-separated postgres:// URLs, one per shard, as
// scripts/integration-pg.sh exports), every command given `--data DIR` also gets
// `--database-url` flags: each data directory gets its own fresh database on every shard, so
// tests stay as isolated from each other as they are on SQLite.
const PG_SHARD_URLS = (process.env.TENDER_DATABASE_URLS || '').split(/\s+/).filter(Boolean);
const pgDatabases = new Map(); // data dir -> [url per shard]
const pgCreatedAt = new Map(); // data dir -> when its databases were made (ms since the epoch)
// scripts/integration-pg.sh makes a migrated database to copy (TENDER_PG_TEMPLATE); without it a
// test environment's databases start empty and the server migrates them
const PG_TEMPLATE = /^[a-z_][a-z0-9_]*$/.test(process.env.TENDER_PG_TEMPLATE || '') ? process.env.TENDER_PG_TEMPLATE : 'template0';

function pgUrlsFor(dataDir) {
  const key = path.resolve(dataDir);
  if (pgDatabases.has(key)) return pgDatabases.get(key);
  const name = `it_${require('node:crypto').createHash('sha256').update(key).digest('hex').slice(0, 24)}`;
  if (!pgCreatedAt.has(key)) pgCreatedAt.set(key, Date.now());
  const urls = PG_SHARD_URLS.map((u) => {
    const admin = new URL(u);
    admin.pathname = '/postgres';
    const exists = execFileSync('psql', [admin.toString(), '-qAt', '-c',
      `SELECT 1 FROM pg_database WHERE datname = '${name}'`], { encoding: 'utf8' }).trim() === '1';
    if (!exists) {
      execFileSync('psql', [admin.toString(), '-q', '-c',
        `CREATE DATABASE ${name} TEMPLATE ${PG_TEMPLATE} ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'`]);
    }
    const db = new URL(u);
    db.pathname = `/${name}`;
    return db.toString();
  });
  pgDatabases.set(key, urls);
  return urls;
}

function withDatabaseUrls(args) {
  if (PG_SHARD_URLS.length === 0) return args;
  const i = args.indexOf('--data');
  if (i < 0 || i + 1 >= args.length || args.includes('--database-url')) return args;
  return [...args, ...pgUrlsFor(args[i + 1]).flatMap((u) => ['--database-url', u])];
}
// SQL against the store behind dataDir, on whichever backend the suite runs: sqlite3 on the
// data directory's file, or psql on every shard's database (a merchant's rows live on one shard;
// an UPDATE elsewhere changes nothing). Returns one output string per database.
function storeSql(dataDir, sql) {
  if (PG_SHARD_URLS.length === 0) {
    // the server's writer may hold the write lock for a moment (a group, a scheduler tick):
    // wait for it, as the server's own connections do, instead of failing at once
    return [execFileSync('sqlite3', ['-cmd', '.timeout 10000', path.join(dataDir, 'tender.db'), sql], { encoding: 'utf8' })];
  }
  return pgUrlsFor(dataDir).map((u) => execFileSync('psql', [u, '-qAt', '-c', sql], { encoding: 'utf8' }));
}

// Every file the store keeps on disk: the SQLite database and its WAL in dataDir, or, on
// PostgreSQL, every file of every cluster (scripts/integration-pg.sh exports TENDER_PG_DIR),
// WAL segments included. Callers grep them for what must never be stored in clear.
function storeFiles(dataDir) {
  const roots = PG_SHARD_URLS.length === 0 ? [dataDir] : [dataDir, process.env.TENDER_PG_DIR];
  if (!roots[roots.length - 1]) throw new Error('TENDER_PG_DIR is not set: run the PostgreSQL suite through scripts/integration-pg.sh');
  // A cluster's base/ holds one directory per database, and the suite makes a database per
  // data directory on every shard: only this one's are read (every test's would make the scan
  // grow with the suite, to most of a minute per scan at its end). Everything else (WAL, commit
  // logs, shared catalogs) is read when it was written during this data directory's life.
  let ownDbs = null;
  // A cluster-wide file (a WAL segment, a commit log page) last written before this data
  // directory's databases existed cannot hold anything its server wrote: skipped, so that a
  // scan reads what the suite wrote during this test file's life, not its whole history
  // (a second of slack for the file systems' timestamps)
  let since = 0;
  if (PG_SHARD_URLS.length > 0) {
    // make PostgreSQL write what it holds in shared buffers out to the data files
    for (const u of PG_SHARD_URLS) execFileSync('psql', [u, '-qAt', '-c', 'CHECKPOINT']);
    ownDbs = new Set(pgUrlsFor(dataDir).map((u) => execFileSync('psql', [u, '-qAt', '-c',
      'SELECT oid FROM pg_database WHERE datname = current_database()'], { encoding: 'utf8' }).trim()));
    since = (pgCreatedAt.get(path.resolve(dataDir)) || 0) - 1000;
  }
  const pgRoot = PG_SHARD_URLS.length > 0 ? path.resolve(roots[roots.length - 1]) : null;
  // this data directory's own databases' files are read whatever their age
  const ownDir = (f) => ownDbs && [...ownDbs].some((oid) => f.includes(`${path.sep}base${path.sep}${oid}${path.sep}`));
  const out = [];
  const walk = (d) => {
    let entries;
    try {
      entries = fs.readdirSync(d, { withFileTypes: true });
    } catch (e) {
      if (e.code === 'ENOENT') return; // a temporary directory PostgreSQL removed meanwhile
      throw e;
    }
    for (const e of entries) {
      const f = path.join(d, e.name);
      if (e.isDirectory()) {
        if (ownDbs && path.basename(d) === 'base' && !ownDbs.has(e.name)) continue;
        walk(f);
      } else if (e.isFile()) {
        if (since > 0 && f.startsWith(pgRoot + path.sep) && !ownDir(f)) {
          let st;
          try {
            st = fs.statSync(f);
          } catch (err) {
            if (err.code === 'ENOENT') continue;
            throw err;
          }
          if (st.mtimeMs < since) continue;
        }
        out.push(f);
      }
    }
  };
  for (const r of roots) walk(r);
  return out;
}
// The contents of storeFiles(dataDir), as [{ file, data }]. PostgreSQL creates and removes
// files as it runs (pg_internal.init, temporary files): one that vanished between the listing
// and the read is skipped, it held nothing any more.
function readStoreFiles(dataDir) {
  const out = [];
  for (const file of storeFiles(dataDir)) {
    try {
      out.push({ file, data: fs.readFileSync(file) });
    } catch (e) {
      if (e.code !== 'ENOENT') throw e;
    }
  }
  return out;
}
// Injected serialization failures (PostgreSQL): every row a statement writes fails it with
// SQLSTATE 40001 with probability p, as a conflict with another transaction would, so that the
// store runs each write callback again from wherever it failed. TENDER_PG_CHAOS=p does it for
// every server the suite starts (scripts/integration-pg.sh); tests that check their own 503s
// then see more of them. The shard bookkeeping a node writes once at start is left alone.
function pgChaos(dataDir, p) {
  if (PG_SHARD_URLS.length === 0) throw new Error('injected serialization failures need PostgreSQL');
  storeSql(dataDir, `CREATE OR REPLACE FUNCTION chaos_fail() RETURNS trigger AS $$ BEGIN
      IF random() < ${Number(p)} THEN RAISE EXCEPTION 'chaos' USING ERRCODE = '40001'; END IF;
      RETURN COALESCE(NEW, OLD); END $$ LANGUAGE plpgsql`);
  storeSql(dataDir, `DO $$ DECLARE t text; BEGIN
      FOR t IN SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename NOT IN
        ('schema_migrations', 'shards', 'shard_identity', 'shard_map', 'shard_residents', 'merchants', 'api_keys') LOOP
        EXECUTE format('DROP TRIGGER IF EXISTS chaos ON %I', t);
        EXECUTE format('CREATE TRIGGER chaos BEFORE INSERT OR UPDATE OR DELETE ON %I FOR EACH ROW EXECUTE FUNCTION chaos_fail()', t);
      END LOOP; END $$`);
}
// ---- end of the PostgreSQL block -------------------------------------------------------------

function tender(args, opts = {}) {
  return execFileSync(BIN, withDatabaseUrls(args), { encoding: 'utf8', ...opts });
}

// scripts/integration.sh makes a migrated, empty SQLite store to copy (TENDER_SQLITE_TEMPLATE, see
// sqlite_template in scripts/shared.sh): a fresh data directory starts from it instead of
// migrating ~100 patches again
function newDataDir(prefix = 'tender-it-') {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const tmpl = process.env.TENDER_SQLITE_TEMPLATE;
  if (tmpl && PG_SHARD_URLS.length === 0) fs.copyFileSync(tmpl, path.join(dir, 'tender.db'));
  return dir;
}

function createMerchant(dataDir, name = 'Test Merchant', extra = []) {
  return JSON.parse(tender(['merchant', 'create', '--data', dataDir, '--name', name, ...extra]));
}

// Spawns `tender serve` and resolves once it prints its address. Every server is tracked so a
// test file can stop all of them in after().
const running = new Set();

async function startServer({ dataDir, keyFile, args = [], env = {} }) {
  const logPath = path.join(dataDir, '..', `${path.basename(dataDir)}.server.log`);
  const log = fs.openSync(logPath, 'a');
  const child = spawn(
    BIN,
    withDatabaseUrls(['serve', '--listen', '127.0.0.1:0', '--data', dataDir, '--master-key-file', keyFile, ...args]),
    { stdio: ['ignore', 'pipe', log], env: { ...process.env, ...env } },
  );
  fs.closeSync(log);
  let out = '';
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`tender did not start: ${out}`)), 15000);
    child.stdout.on('data', (d) => {
      out += d;
      const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`tender exited with ${code} before listening; log: ${fs.readFileSync(logPath, 'utf8')}`));
    });
  });
  if (process.env.TENDER_PG_CHAOS && PG_SHARD_URLS.length > 0) pgChaos(dataDir, process.env.TENDER_PG_CHAOS);
  child.stdout.removeAllListeners('data');
  child.removeAllListeners('exit');
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  // --metrics-listen: the metrics listener's port, printed before the API's
  const mm = /metrics on http:\/\/127\.0\.0\.1:(\d+)\/metrics/.exec(out);
  const srv = { child, port, logPath, exited, metricsPort: mm ? Number(mm[1]) : null };
  running.add(srv);
  srv.stop = async (signal = 'SIGTERM') => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    const r = await exited;
    running.delete(srv);
    return r;
  };
  return srv;
}

// A whole fresh environment: data dir, key, merchant, running server, SDK client.
async function startTender({ args = [], merchants = 1 } = {}) {
  const dataDir = newDataDir();
  const keyFile = path.join(path.dirname(dataDir), `${path.basename(dataDir)}.key`);
  tender(['keygen', keyFile]);
  const accounts = [];
  for (let i = 0; i < merchants; i++) accounts.push(createMerchant(dataDir, `Merchant ${i}`));
  const srv = await startServer({ dataDir, keyFile, args });
  const env = {
    dataDir,
    keyFile,
    server: srv,
    port: srv.port,
    merchant: accounts[0],
    merchants: accounts,
    stripe: (key = accounts[0].secret_key, opts = {}) =>
      new Stripe(key, { host: '127.0.0.1', port: srv.port, protocol: 'http', maxNetworkRetries: 0, ...opts }),
    request: (opts) => request({ port: srv.port, ...opts }),
    stop: () => srv.stop(),
  };
  return env;
}

// Raw HTTP: resolves {status, headers, body (text), json (parsed or undefined)}.
function request({ port, method = 'GET', path: p = '/', headers = {}, body = null, key = null }) {
  return new Promise((resolve, reject) => {
    const h = { ...headers };
    if (key) h.Authorization = `Bearer ${key}`;
    if (body !== null) {
      h['Content-Type'] = h['Content-Type'] || 'application/x-www-form-urlencoded';
      h['Content-Length'] = Buffer.byteLength(body);
    }
    const req = http.request({ host: '127.0.0.1', port, method, path: p, headers: h }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode, headers: res.headers, body: text, json });
      });
    });
    req.on('error', reject);
    if (body !== null) req.write(body);
    req.end();
  });
}

// Asserts that obj carries every field Stripe's OpenAPI spec defines for schema (nullable ones
// as null) with the spec's types.
// Fields the validator's --complete mode lists that Stripe only includes on request
// (includable/conditional, per the validator's own notes).
// charge.refunds is a list Stripe stopped including by default (API 2022-11-15); stripe-node 23
// speaks the newer version, where it appears only when expanded.
const CONDITIONAL = [/^\$\.cash_balance: absent/, /^\$\.card\.account: absent/, /^\$\.refunds: absent/];

function assertStripeShape(obj, schema) {
  const problems = validator.validate(JSON.stringify(obj), schema, { complete: true })
    .filter((p) => !CONDITIONAL.some((re) => re.test(p)));
  assert.deepEqual(problems, [], `${schema} does not match Stripe's spec:\n${problems.join('\n')}`);
}

// Polls fn (sync or async) every 100 ms until it returns something truthy, which it returns;
// throws after timeoutMs. waitFor(fn, 'what it waits for', ms), or waitFor(fn, ms).
async function waitFor(fn, what = 'a condition', timeoutMs = 20000) {
  if (typeof what === 'number') [what, timeoutMs] = ['a condition', what];
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function stopAll() {
  for (const srv of [...running]) await srv.stop();
}

// ---- bank debits (sepa_debit, us_bank_account): what their test files share ----

// waits for the scheduler to settle PaymentIntent id (no longer processing): the intent. The
// deadline is generous: CI runs four test files at once on two cores, and a pass of the scheduler
// can wait behind them.
async function debitSettled(client, id, timeoutMs = 30000) {
  return waitFor(async () => {
    const pi = await client.paymentIntents.retrieve(id);
    return pi.status !== 'processing' && pi;
  }, `PaymentIntent ${id} to settle`, timeoutMs);
}

// the (newest 100) events about object id, oldest first
async function eventsAbout(client, id) {
  const ev = await client.events.list({ limit: 100 });
  return ev.data.filter((e) => e.data.object.id === id).reverse();
}

// their types
async function eventTypesOf(client, id) {
  return (await eventsAbout(client, id)).map((e) => e.type);
}

// a finalized one-off invoice of customer cus for amount (one invoice item), not advanced by itself
async function openInvoice(client, cus, amount, currency) {
  await client.invoiceItems.create({ customer: cus.id, amount, currency, description: 'Consulting' });
  const inv = await client.invoices.create({ customer: cus.id, pending_invoice_items_behavior: 'include', auto_advance: false });
  return client.invoices.finalizeInvoice(inv.id, { auto_advance: false });
}

// the invoice's latest attempt: the newest of its customer's (last 20) PaymentIntents that pays it
async function invoiceLatestPi(client, inv) {
  const pis = await client.paymentIntents.list({ customer: inv.customer, limit: 20 });
  const pi = pis.data.find((p) => p.invoice === inv.id);
  if (!pi) throw new Error(`no PaymentIntent pays ${inv.id}`);
  return pi;
}

// waits for invoice id's latest debit to settle: the invoice, with payment_intent (the intent)
async function invoiceDebitSettled(client, id) {
  const { customer } = await client.invoices.retrieve(id);
  return waitFor(async () => {
    // the intent first: the invoice read after it sees its settlement
    const pi = await invoiceLatestPi(client, { id, customer });
    if (pi.status === 'processing') return false;
    return { ...(await client.invoices.retrieve(id)), payment_intent: pi };
  }, `invoice ${id}'s debit to settle`, 30000);
}

// Debian's Chromium, headless, through playwright-core (never a browser a tool downloads), for
// the tests of Tender's pages; CHROMIUM_PATH overrides where it is.
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
function launchChromium() {
  const { chromium } = require('playwright-core');
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

// A merchant's shop on a free port, where success and cancel URLs land: it shows the path and
// query it was sent to (in <h1 id="back">). Resolves once it listens.
async function startShop() {
  const shop = http.createServer((req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html' });
    res.end(`<!doctype html><title>Shop</title><h1 id="back">${req.url.replace(/[<>&]/g, '')}</h1>`);
  });
  await new Promise((r) => shop.listen(0, '127.0.0.1', r));
  return shop;
}

module.exports = {
  launchChromium, startShop,
  waitFor, debitSettled, eventsAbout, eventTypesOf, openInvoice, invoiceLatestPi, invoiceDebitSettled,
  BIN, ROOT, SHARED, tender, newDataDir, createMerchant, startServer, startTender, request,
  assertStripeShape, stopAll, withDatabaseUrls, PG_SHARD_URLS, storeSql, storeFiles, readStoreFiles, pgChaos,
};
