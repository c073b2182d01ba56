'use strict';
// The Reporting API through stripe-node: report types, report runs computed by the scheduler
// into finance_report_run files, and CSVs that reconcile exactly with /v1/balance_transactions
// (ending = starting + activity + payouts, per currency, zero-decimal currencies included), the
// events, Stripe's shapes, tenants, and refusals that change nothing.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const Stripe = require('stripe');
const {
  stopAll, assertStripeShape, waitFor, newDataDir, tender, createMerchant, startServer, request, storeSql,
} = require('./helpers');

let env;
let stripe;
let other;
let yen; // a merchant settling in jpy (a zero-decimal currency)
const keys = new Map(); // client -> its secret key, to download files

before(async () => {
  const dataDir = newDataDir('tender-reporting-');
  const keyFile = path.join(path.dirname(dataDir), `${path.basename(dataDir)}.key`);
  tender(['keygen', keyFile]);
  const merchants = [createMerchant(dataDir, 'Merchant 0'), createMerchant(dataDir, 'Merchant 1'),
    createMerchant(dataDir, 'Yen merchant', ['--settlement-currency', 'JPY'])];
  const srv = await startServer({ dataDir, keyFile, args: ['--rate-limit', '0'] });
  const client = (m) => new Stripe(m.secret_key, { host: '127.0.0.1', port: srv.port, protocol: 'http', maxNetworkRetries: 0 });
  env = { dataDir, merchants, request: (opts) => request({ port: srv.port, ...opts }) };
  stripe = client(merchants[0]);
  other = client(merchants[1]);
  yen = client(merchants[2]);
  keys.set(stripe, merchants[0].secret_key).set(other, merchants[1].secret_key).set(yen, merchants[2].secret_key);
});
after(stopAll);

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const EXP = { usd: 2, jpy: 0, eur: 2 };
const PAYOUT_CATS = new Set(['payout', 'payout_reversal']);

// "12.34" (usd) → 1234n, "-0.05" → -5n, "1000" (jpy) → 1000n; the format must be exact
function toMinor(s, currency) {
  const e = EXP[currency];
  const re = e === 0 ? /^-?\d+$/ : new RegExp(`^-?\\d+\\.\\d{${e}}$`);
  assert.match(s, re, `amount ${s} for ${currency}`);
  return BigInt(s.replace('.', ''));
}

// RFC 4180: quoted fields, doubled quotes, CRLF rows
function parseCsv(text) {
  const rows = [];
  let row = [];
  let f = '';
  let q = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (q) {
      if (c === '"' && text[i + 1] === '"') { f += '"'; i++; } else if (c === '"') q = false; else f += c;
    } else if (c === '"') q = true;
    else if (c === ',') { row.push(f); f = ''; } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(f); rows.push(row); row = []; f = ''; i++;
    } else f += c;
  }
  assert.equal(f, '');
  assert.equal(row.length, 0);
  const [header, ...data] = rows;
  return { header, rows: data.map((r) => Object.fromEntries(header.map((h, k) => [h, r[k]]))) };
}

function utc(t) {
  return new Date(t * 1000).toISOString().replace('T', ' ').slice(0, 19);
}

async function allBalanceTransactions(s) {
  const out = [];
  for await (const bt of s.balanceTransactions.list({ limit: 100 })) out.push(bt);
  return out;
}

async function runReport(s, report_type, parameters, opts = {}) {
  const run = await s.reporting.reportRuns.create({ report_type, parameters }, opts);
  assert.match(run.id, /^frr_/);
  assert.equal(run.object, 'reporting.report_run');
  assert.equal(run.status, 'pending');
  assert.equal(run.result, null);
  assert.equal(run.succeeded_at, null);
  assertStripeShape(run, 'reporting.report_run');
  const ev = await waitFor(async () => {
    const evs = await s.events.list({ type: 'reporting.report_run.succeeded', limit: 100 }, opts);
    return evs.data.find((e) => e.data.object.id === run.id);
  }, `the run ${run.id} to succeed`, 20000);
  const done = await s.reporting.reportRuns.retrieve(run.id, {}, opts);
  assert.equal(done.status, 'succeeded');
  assert.equal(done.error, null);
  assert.ok(done.succeeded_at >= run.created);
  assert.equal(done.result.object, 'file');
  assert.equal(done.result.purpose, 'finance_report_run');
  assert.equal(done.result.type, 'csv');
  assert.equal(done.result.expires_at, done.result.created + 365 * 86400);
  assert.deepEqual(ev.data.object.result.id, done.result.id);
  assert.equal(ev.data.object.status, 'succeeded');
  assertStripeShape(done, 'reporting.report_run');
  assertStripeShape(done.result, 'file');
  assertStripeShape(ev.data.object, 'reporting.report_run');
  const url = new URL(done.result.url);
  assert.equal(url.pathname, `/v1/files/${done.result.id}/contents`);
  const headers = opts.stripeAccount ? { 'Stripe-Account': opts.stripeAccount } : {};
  const res = await env.request({ path: url.pathname, key: keys.get(s), headers });
  assert.equal(res.status, 200);
  assert.equal(res.headers['content-type'], 'text/csv');
  assert.equal(Buffer.byteLength(res.body), done.result.size);
  return { run: done, csv: parseCsv(res.body), raw: res.body };
}

let t; // the reconciliation's times and objects, shared by the tests below

test('report types: listed in a fresh account, Stripe shapes, default columns', async () => {
  const list = await other.reporting.reportTypes.list();
  const ids = list.data.map((x) => x.id);
  assert.deepEqual(ids, ['balance.summary.1', 'balance_change_from_activity.itemized.1',
    'balance_change_from_activity.summary.1', 'payouts.itemized.1', 'payout_reconciliation.itemized.5',
    'payout_reconciliation.summary.1']);
  for (const rt of list.data) {
    assertStripeShape(rt, 'reporting.report_type');
    assert.equal(rt.version, Number(rt.id.split('.').pop()));
    assert.ok(rt.data_available_start <= rt.data_available_end);
    assert.equal(rt.data_available_start % 86400, 0);
  }
  const bs = await other.reporting.reportTypes.retrieve('balance.summary.1');
  assert.deepEqual(bs.default_columns, ['category', 'description', 'net_amount', 'currency']);
  assert.equal(bs.name, 'Balance summary');
  const it = await other.reporting.reportTypes.retrieve('balance_change_from_activity.itemized.1');
  assert.ok(it.default_columns.includes('balance_transaction_id'));
  await assert.rejects(other.reporting.reportTypes.retrieve('balance.summary.9'),
    (e) => e.statusCode === 404 && e.code === 'resource_missing');
});

test('payments, a refund and a payout: the reports reconcile with the balance transactions', async () => {
  // before the interval: one payment (its balance is the report's starting balance)
  const a = await stripe.paymentIntents.create({ amount: 10000, currency: 'usd',
    payment_method: 'pm_card_bypassPending', confirm: true });
  assert.equal(a.status, 'succeeded');
  const aBt = (await allBalanceTransactions(stripe))[0];
  await sleep(1100);
  const start = aBt.created + 1;
  // in the interval
  const b = await stripe.paymentIntents.create({ amount: 5000, currency: 'usd',
    payment_method: 'pm_card_bypassPending', confirm: true, description: 'order "42", two items' });
  await stripe.refunds.create({ payment_intent: b.id, amount: 1500 });
  const po = await stripe.payouts.create({ amount: 3000, currency: 'usd', description: 'weekly' });
  await stripe.paymentIntents.create({ amount: 1234, currency: 'usd',
    payment_method: 'pm_card_visa', confirm: true });
  await sleep(1100);
  const rt = await stripe.reporting.reportTypes.retrieve('balance.summary.1');
  const end = rt.data_available_end;
  assert.ok(rt.data_available_start <= aBt.created);
  const bts = await allBalanceTransactions(stripe);
  assert.ok(bts.every((x) => x.created < end));
  t = { start, end, po, bts, b };

  // expected, from /v1/balance_transactions
  const exp = {};
  for (const x of bts) {
    const e = (exp[x.currency] ||= { starting: 0n, activity: 0n, payouts: 0n, ending: 0n, gross: 0n, fee: 0n });
    const net = BigInt(x.net);
    if (x.created < start) e.starting += net;
    else if (PAYOUT_CATS.has(x.reporting_category)) e.payouts += net;
    else { e.activity += net; e.gross += BigInt(x.amount); e.fee += BigInt(x.fee); }
    if (x.created < end) e.ending += net;
  }
  assert.deepEqual(Object.keys(exp), ['usd']);

  // balance.summary.1
  const sum = await runReport(stripe, 'balance.summary.1', { interval_start: start, interval_end: end });
  assert.deepEqual(sum.run.parameters, { interval_start: start, interval_end: end });
  assert.deepEqual(sum.csv.header, ['category', 'description', 'net_amount', 'currency']);
  const got = {};
  for (const r of sum.csv.rows) (got[r.currency] ||= {})[r.category] = toMinor(r.net_amount, r.currency);
  assert.deepEqual(Object.keys(got), ['usd']);
  for (const cur of ['usd']) {
    const g = got[cur];
    const e = exp[cur];
    assert.equal(g.starting_balance, e.starting, cur);
    assert.equal(g.activity_gross, e.gross, cur);
    assert.equal(g.activity_fee, -e.fee, cur);
    assert.equal(g.activity, e.activity, cur);
    assert.equal(g.payouts, e.payouts, cur);
    assert.equal(g.ending_balance, e.ending, cur);
    assert.equal(g.ending_balance, g.starting_balance + g.activity + g.payouts, cur);
    assert.equal(g.activity, g.activity_gross + g.activity_fee, cur);
  }
  assert.equal(got.usd.starting_balance, 10000n - 320n);
  assert.equal(got.usd.payouts, -3000n);
  assert.equal(sum.csv.rows.length, 6);

  // balance_change_from_activity.itemized.1: one row per transaction of the interval, payouts aside
  const item = await runReport(stripe, 'balance_change_from_activity.itemized.1', { interval_start: start, interval_end: end });
  const inInterval = bts.filter((x) => x.created >= start && x.created < end && !PAYOUT_CATS.has(x.reporting_category));
  assert.deepEqual(item.csv.header, ['balance_transaction_id', 'created_utc', 'available_on_utc', 'currency',
    'gross', 'fee', 'net', 'reporting_category', 'description']);
  assert.deepEqual(item.csv.rows.map((r) => r.balance_transaction_id).sort(), inInterval.map((x) => x.id).sort());
  for (const r of item.csv.rows) {
    const x = inInterval.find((y) => y.id === r.balance_transaction_id);
    assert.equal(toMinor(r.gross, r.currency), BigInt(x.amount));
    assert.equal(toMinor(r.fee, r.currency), BigInt(x.fee));
    assert.equal(toMinor(r.net, r.currency), BigInt(x.net));
    assert.equal(r.currency, x.currency);
    assert.equal(r.reporting_category, x.reporting_category);
    assert.equal(r.created_utc, utc(x.created));
    assert.equal(r.available_on_utc, utc(x.available_on));
    assert.equal(r.description, x.description || '');
  }
  assert.ok(item.csv.rows.some((r) => r.reporting_category === 'refund'));
  for (const cur of ['usd']) {
    const s = item.csv.rows.filter((r) => r.currency === cur).reduce((acc, r) => acc + toMinor(r.net, cur), 0n);
    assert.equal(s, got[cur].activity);
  }

  // balance_change_from_activity.summary.1: the itemized rows grouped
  const as = await runReport(stripe, 'balance_change_from_activity.summary.1', { interval_start: start, interval_end: end });
  assert.deepEqual(as.csv.header, ['reporting_category', 'currency', 'count', 'gross', 'fee', 'net']);
  for (const r of as.csv.rows) {
    const rows = item.csv.rows.filter((x) => x.currency === r.currency && x.reporting_category === r.reporting_category);
    assert.equal(Number(r.count), rows.length);
    assert.equal(toMinor(r.net, r.currency), rows.reduce((acc, x) => acc + toMinor(x.net, r.currency), 0n));
    assert.equal(toMinor(r.gross, r.currency), rows.reduce((acc, x) => acc + toMinor(x.gross, r.currency), 0n));
  }
  assert.equal(as.csv.rows.reduce((n, r) => n + Number(r.count), 0), item.csv.rows.length);

  // payouts.itemized.1, with columns chosen (in the order asked)
  const pay = await runReport(stripe, 'payouts.itemized.1', { interval_start: start, interval_end: end,
    columns: ['payout_id', 'net', 'currency', 'payout_status', 'payout_expected_arrival_date', 'balance_transaction_id'] });
  assert.deepEqual(pay.csv.header, ['payout_id', 'net', 'currency', 'payout_status', 'payout_expected_arrival_date',
    'balance_transaction_id']);
  assert.deepEqual(pay.run.parameters.columns, pay.csv.header);
  const prow = pay.csv.rows.find((r) => r.payout_id === po.id);
  assert.equal(prow.net, '-30.00');
  assert.equal(prow.balance_transaction_id, po.balance_transaction);
  assert.equal(prow.payout_expected_arrival_date, utc(po.arrival_date).slice(0, 10));
  assert.ok(['pending', 'paid'].includes(prow.payout_status));
  assert.equal(pay.csv.rows.reduce((acc, r) => acc + toMinor(r.net, r.currency), 0n), got.usd.payouts);

  // a currency filter: another currency has no rows, this one its six
  const eur = await runReport(stripe, 'balance.summary.1', { interval_start: start, interval_end: end, currency: 'EUR' });
  assert.equal(eur.run.parameters.currency, 'eur');
  assert.equal(eur.csv.rows.length, 0);
  assert.equal(eur.raw, 'category,description,net_amount,currency\r\n');

  // a category filter and a fixed-offset time zone (Etc/GMT-14: 14 hours ahead of UTC)
  const refunds = await runReport(stripe, 'balance_change_from_activity.itemized.1',
    { interval_start: start, interval_end: end, reporting_category: 'refund', timezone: 'Etc/GMT-14',
      columns: ['balance_transaction_id', 'created', 'created_utc', 'net', 'source_id'] });
  assert.equal(refunds.csv.rows.length, 1);
  assert.equal(refunds.csv.rows[0].net, '-15.00');
  assert.match(refunds.csv.rows[0].source_id, /^re_/);
  const rbt = bts.find((x) => x.id === refunds.csv.rows[0].balance_transaction_id);
  assert.equal(rbt.reporting_category, 'refund');
  assert.equal(refunds.csv.rows[0].created_utc, utc(rbt.created));
  assert.equal(refunds.csv.rows[0].created, utc(rbt.created + 14 * 3600));
  assert.equal(refunds.run.parameters.timezone, 'Etc/GMT-14');

  // a zone with daylight saving time: each time at the zone's offset then (as Node's Intl says)
  const inZone = (secs, timeZone) => new Intl.DateTimeFormat('sv-SE', {
    timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit',
    second: '2-digit', hourCycle: 'h23' }).format(new Date(secs * 1000));
  for (const timeZone of ['America/New_York', 'Australia/Lord_Howe']) {
    const local = await runReport(stripe, 'balance_change_from_activity.itemized.1',
      { interval_start: start, interval_end: end, timezone: timeZone,
        columns: ['balance_transaction_id', 'created', 'created_utc', 'available_on'] });
    assert.equal(local.run.parameters.timezone, timeZone);
    assert.ok(local.csv.rows.length >= 3);
    for (const row of local.csv.rows) {
      const b = bts.find((x) => x.id === row.balance_transaction_id);
      assert.equal(row.created_utc, utc(b.created));
      assert.equal(row.created, inZone(b.created, timeZone));
      assert.equal(row.available_on, inZone(b.available_on, timeZone));
    }
  }
});

test('a zero-decimal currency: whole yen, reconciled', async () => {
  await yen.paymentIntents.create({ amount: 1234, currency: 'jpy', payment_method: 'pm_card_bypassPending', confirm: true });
  await yen.paymentIntents.create({ amount: 50, currency: 'usd', payment_method: 'pm_card_bypassPending', confirm: true });
  await yen.payouts.create({ amount: 500, currency: 'jpy' });
  await sleep(1100);
  const bts = await allBalanceTransactions(yen);
  assert.ok(bts.every((x) => x.currency === 'jpy'));
  const r = await runReport(yen, 'balance.summary.1', { currency: 'jpy' });
  const g = Object.fromEntries(r.csv.rows.map((x) => [x.category, toMinor(x.net_amount, 'jpy')]));
  assert.ok(r.csv.rows.every((x) => x.currency === 'jpy' && !x.net_amount.includes('.')));
  assert.equal(g.starting_balance, 0n);
  assert.equal(g.payouts, -500n);
  assert.equal(g.ending_balance, bts.reduce((acc, x) => acc + BigInt(x.net), 0n));
  assert.equal(g.ending_balance, g.starting_balance + g.activity + g.payouts);
  assert.ok(r.raw.includes(`activity_gross,Activity before fees,${bts.filter((x) => x.reporting_category === 'charge').reduce((a, x) => a + x.amount, 0)},jpy`));
});

test('runs: list with created filter and cursors; tenants apart; the file cannot be uploaded', async () => {
  const all = await stripe.reporting.reportRuns.list({ limit: 100 });
  assert.equal(all.data.length, 8);
  assert.equal(all.data[0].report_type, 'balance_change_from_activity.itemized.1'); // newest first
  assert.equal(all.url, '/v1/reporting/report_runs');
  const page = await stripe.reporting.reportRuns.list({ limit: 2 });
  assert.equal(page.has_more, true);
  const next = await stripe.reporting.reportRuns.list({ limit: 2, starting_after: page.data[1].id });
  assert.equal(next.data[0].id, all.data[2].id);
  const none = await stripe.reporting.reportRuns.list({ created: { gt: all.data[0].created } });
  assert.equal(none.data.length, 0);
  const some = await stripe.reporting.reportRuns.list({ created: { gte: all.data[7].created }, limit: 100 });
  assert.equal(some.data.length, 8);

  // another merchant sees neither the run nor its file
  const run = all.data[0];
  assert.equal(run.status, 'succeeded');
  await assert.rejects(other.reporting.reportRuns.retrieve(run.id), (e) => e.statusCode === 404);
  await assert.rejects(other.files.retrieve(run.result.id), (e) => e.statusCode === 404);
  const res = await env.request({ path: `/v1/files/${run.result.id}/contents`, key: env.merchants[1].secret_key });
  assert.equal(res.status, 404);
  assert.equal((await other.reporting.reportRuns.list()).data.length, 0);
  // no key, no file
  assert.equal((await env.request({ path: `/v1/files/${run.result.id}/contents` })).status, 401);
  // the merchant reads it among its files
  const files = await stripe.files.list({ purpose: 'finance_report_run', limit: 100 });
  assert.equal(files.data.length, 8);
  // but cannot upload one
  await assert.rejects(stripe.files.create({ purpose: 'finance_report_run',
    file: { data: Buffer.from('a,b\r\n1,2\r\n'), name: 'r.csv', type: 'text/csv' } }),
  (e) => e.statusCode === 400);
});

test('refusals: Stripe\'s 400s, and nothing is written', async () => {
  const before = (await stripe.reporting.reportRuns.list({ limit: 100 })).data.length;
  const rt = await stripe.reporting.reportTypes.retrieve('balance.summary.1');
  const bad = async (report_type, parameters, param) => {
    await assert.rejects(stripe.reporting.reportRuns.create({ report_type, parameters }), (e) => {
      assert.equal(e.statusCode, 400, e.message);
      assert.equal(e.type, 'StripeInvalidRequestError');
      assert.equal(e.param, param, e.message);
      return true;
    });
  };
  await bad('balance.summary.7', { interval_start: t.start, interval_end: t.end }, 'report_type');
  await bad('balance.summary.1', { interval_start: rt.data_available_start - 86400, interval_end: t.end },
    'parameters[interval_start]');
  await bad('balance.summary.1', { interval_start: t.start, interval_end: rt.data_available_end + 3600 },
    'parameters[interval_end]');
  await bad('balance.summary.1', { interval_start: t.end - 1, interval_end: t.start }, 'parameters[interval_end]');
  await bad('balance.summary.1', { interval_start: t.start, interval_end: t.end, columns: ['category', 'nope'] },
    'parameters[columns]');
  await bad('balance.summary.1', { interval_start: t.start, interval_end: t.end, columns: ['currency', 'currency'] },
    'parameters[columns]');
  await bad('balance.summary.1', { interval_start: t.start, interval_end: t.end, timezone: 'Etc/UTC' },
    'parameters[timezone]');
  await bad('balance_change_from_activity.itemized.1', { interval_start: t.start, interval_end: t.end,
    timezone: 'Mars/Olympus_Mons' }, 'parameters[timezone]');
  await bad('payouts.itemized.1', { interval_start: t.start, interval_end: t.end, reporting_category: 'charge' },
    'parameters[reporting_category]');
  await bad('balance.summary.1', { interval_start: t.start, interval_end: t.end, currency: 'xyz' },
    'parameters[currency]');
  await assert.rejects(stripe.reporting.reportRuns.create({ report_type: 'balance.summary.1',
    parameters: { interval_start: t.start, payout: 'po_1' } }), (e) => e.statusCode === 400 && e.code === 'parameter_unknown');
  assert.equal((await stripe.reporting.reportRuns.list({ limit: 100 })).data.length, before);
  await assert.rejects(stripe.reporting.reportRuns.retrieve('frr_nope'), (e) => e.statusCode === 404);
  // a publishable key reads no report and runs none
  for (const [method, p] of [['GET', '/v1/reporting/report_runs'], ['GET', '/v1/reporting/report_types'],
    ['POST', '/v1/reporting/report_runs']]) {
    const res = await env.request({ method, path: p, key: env.merchants[0].publishable_key,
      body: method === 'POST' ? 'report_type=balance.summary.1' : null });
    assert.ok(res.status === 401 || res.status === 403, `${method} ${p}: ${res.status}`);
  }
  assert.equal((await stripe.reporting.reportRuns.list({ limit: 100 })).data.length, before);

  // a run that cannot be computed fails, with its error and reporting.report_run.failed (a type
  // the store names but Tender no longer runs, put there behind the API's back)
  const victim = (await stripe.reporting.reportRuns.list({ limit: 1 })).data[0];
  storeSql(env.dataDir, `UPDATE report_runs SET status = 'pending', result = NULL, succeeded_at = NULL,
    report_type = 'balance.summary.0' WHERE id = '${victim.id}'`);
  const failed = await waitFor(async () => {
    const evs = await stripe.events.list({ type: 'reporting.report_run.failed', limit: 10 });
    return evs.data.find((e) => e.data.object.id === victim.id);
  }, 'the run to fail', 20000);
  assert.equal(failed.data.object.status, 'failed');
  assert.equal(failed.data.object.result, null);
  assert.match(failed.data.object.error, /could not be computed/);
  assertStripeShape(failed.data.object, 'reporting.report_run');
  // stripe-node takes a top-level string `error` for an OAuth error and throws, so a failed run
  // (Stripe's own shape: `error` a string) is read here over raw HTTP, and in lists
  const f = (await env.request({ path: `/v1/reporting/report_runs/${victim.id}`, key: keys.get(stripe) })).json;
  assert.equal(f.status, 'failed');
  assert.equal(f.succeeded_at, null);
  assert.equal(f.error, failed.data.object.error);
  assertStripeShape(f, 'reporting.report_run');
  const listed = (await stripe.reporting.reportRuns.list({ limit: 1 })).data[0];
  assert.equal(listed.id, victim.id);
  assert.equal(listed.status, 'failed');

  // defaults: the whole data available
  const all = await runReport(stripe, 'balance.summary.1', {});
  assert.equal(all.run.parameters.interval_start, rt.data_available_start);
  const usd = Object.fromEntries(all.csv.rows.filter((r) => r.currency === 'usd').map((r) => [r.category, r.net_amount]));
  assert.equal(usd.starting_balance, '0.00');
  const netAll = t.bts.filter((x) => x.currency === 'usd').reduce((acc, x) => acc + BigInt(x.net), 0n);
  assert.equal(toMinor(usd.ending_balance, 'usd'), netAll);
});

test('payout reconciliation: the transactions an automatic payout settled, summing to what reached the bank', async () => {
  const acct = await stripe.accounts.create({ type: 'custom', settings: { payouts: { schedule: { interval: 'daily' } } } });
  const o = { stripeAccount: acct.id };
  await stripe.accounts.createExternalAccount(acct.id, { external_account: {
    object: 'bank_account', country: 'US', currency: 'usd', routing_number: '110000000', account_number: '000123456789' } });
  for (const [amount, pm] of [[30000, 'pm_card_bypassPending'], [4500, 'pm_card_bypassPending'], [5000, 'pm_card_visa']]) {
    const pi = await stripe.paymentIntents.create({ amount, currency: 'usd', payment_method: pm, confirm: true }, o);
    assert.equal(pi.status, 'succeeded');
  }
  const ch = (await stripe.charges.list({ limit: 3 }, o)).data.find((c) => c.amount === 4500);
  await stripe.refunds.create({ charge: ch.id, amount: 500 }, o);
  // the account's payout is due now
  storeSql(env.dataDir, `UPDATE connected_accounts SET po_next_due = ${Math.floor(Date.now() / 1000) - 5} WHERE id = '${acct.id}'`);
  const po = await waitFor(async () => (await stripe.payouts.list({ limit: 10 }, o)).data.find((p) => p.automatic),
    'an automatic payout', 20000);
  // reported once it has arrived (its arrival_date is Stripe's effective_at)
  await waitFor(async () => (await stripe.reporting.reportTypes.retrieve('payout_reconciliation.itemized.5', {}, o))
    .data_available_end > po.arrival_date, 'the arrival date to pass', 20000);
  const settled = [];
  for await (const bt of stripe.balanceTransactions.list({ payout: po.id, limit: 100 }, o)) {
    if (bt.id !== po.balance_transaction) settled.push(bt);
  }
  assert.ok(settled.length >= 3);
  const item = await runReport(stripe, 'payout_reconciliation.itemized.5', {}, o);
  assert.deepEqual(item.csv.header, ['automatic_payout_id', 'automatic_payout_effective_at_utc', 'balance_transaction_id',
    'created_utc', 'available_on_utc', 'currency', 'gross', 'fee', 'net', 'reporting_category', 'description']);
  assert.deepEqual(item.csv.rows.map((r) => r.balance_transaction_id).sort(), settled.map((x) => x.id).sort());
  assert.ok(item.csv.rows.every((r) => r.automatic_payout_id === po.id && r.automatic_payout_effective_at_utc === utc(po.arrival_date)));
  const net = item.csv.rows.reduce((acc, r) => acc + toMinor(r.net, 'usd'), 0n);
  assert.equal(net, BigInt(po.amount));
  assert.ok(item.csv.rows.some((r) => r.reporting_category === 'refund'));
  const sum = await runReport(stripe, 'payout_reconciliation.summary.1', {}, o);
  assert.equal(sum.csv.rows.reduce((acc, r) => acc + toMinor(r.net, 'usd'), 0n), BigInt(po.amount));
  assert.equal(sum.csv.rows.reduce((n, r) => n + Number(r.count), 0), settled.length);
  // the platform's own reports and runs do not hold the account's
  await assert.rejects(stripe.reporting.reportRuns.retrieve(item.run.id), (e) => e.statusCode === 404);
  assert.equal((await stripe.reporting.reportRuns.list({ limit: 100 }, o)).data.length, 2);
});
