'use strict';
// Tender's money invariants under a randomized, concurrent mix of every money-moving feature,
// through the official stripe-node SDK, then the books checked from the API's own objects.
//
// Two merchants: A, a Connect platform (P) with two connected accounts (C1, C2, reached with
// stripeAccount), and B, a plain merchant (M). Eight workers run a seeded plan of operations at
// once: PaymentIntents (automatic and manual capture, partial captures, cancels, capture racing
// cancel, eur/jpy settled in usd, declining cards and a retry with a good one, 3-D Secure cards
// left in requires_action), legacy charges (tok_visa, a customer's card source, a token made from
// a raw card number), refunds (partial, full, three at once that together ask for more than the
// charge), dispute cards, payouts (some beyond the balance, some at once, some canceled),
// transfers and reversals, destination and direct charges with application fees and refunds
// that reverse them, subscriptions with invoice items on a test clock advanced a period or two.
// Every POST carries its own Idempotency-Key and metadata[k] = that key; some are sent twice
// (after the first answer, or at the same time, as SDK retries do) and must answer the same; some
// keys are reused with other parameters and must be refused, changing nothing; some are reused on
// another account, where they are another request. A few payments go through raw HTTP, their
// answers and replays compared byte for byte. Most runs SIGKILL the server mid-run (some once
// more after the workers, while disputes, refunds, payouts and clocks are still due), start it
// again on the same store, and re-send every request whose answer was lost with its key.
//
// Then, per account: every acknowledged object exists, no key made two objects and a refused
// request none, every saved answer replays identically; each charge's captured/refunded amounts
// agree with its refunds, its PaymentIntent and its balance transaction (fx included); balance =
// Σ balance transactions (per currency and status; an available one's available_on has come);
// each account's balance follows from its objects (charges, refunds, disputes, payouts,
// transfers, application fees) and the whole system's money is conserved; both sides of every
// transfer, reversal and fee agree; payouts and transfers never drew more than was available;
// clocks reached their time and subscriptions were paid for every period, invoices by their
// intents; tenants and connected accounts see none of each other's objects (by id, by list
// filters, in events); `tender verify` passes; no card number used is in any store file or the
// server log.
//
// The plan is a function of a seed (TENDER_INVARIANTS_SEED; random otherwise, printed on
// failure): each worker draws its operations from its own PRNG. Concurrency decides only which
// of the racing requests win. TENDER_INVARIANTS_OPS sets the operations per worker,
// TENDER_INVARIANTS_RESTART=0/1 forces the restart off or on, and on PostgreSQL
// TENDER_INVARIANTS_CHAOS=p fails each row a statement writes with a serialization failure with
// probability p (0.05 is a good start), so that every write is also run again from wherever it
// failed.
const { test, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const crypto = require('node:crypto');
const Stripe = require('stripe');
const { startTender, startServer, stopAll, tender, storeFiles, request, pgChaos, waitFor } = require('./helpers');

after(stopAll);

const SEED = process.env.TENDER_INVARIANTS_SEED !== undefined
  ? Number(process.env.TENDER_INVARIANTS_SEED) >>> 0
  : crypto.randomInt(2 ** 31);
const WORKERS = 8;
const OPS_PER_WORKER = Number(process.env.TENDER_INVARIANTS_OPS || 80);
const DAY = 86400;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---- a small seeded PRNG (mulberry32) -----------------------------------------------------
function rng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const r = {
    next,
    int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)), // inclusive
    chance: (p) => next() < p,
    pick: (arr) => arr[Math.floor(next() * arr.length)],
    weighted: (pairs) => {
      const total = pairs.reduce((s, [, w]) => s + w, 0);
      let x = next() * total;
      for (const [v, w] of pairs) {
        if ((x -= w) < 0) return v;
      }
      return pairs[pairs.length - 1][0];
    },
  };
  return r;
}

// The card numbers behind every card this test uses (aliases stand for them inside Tender) and
// the raw ones it sends itself: none may be stored or logged in clear.
const RAW_PANS = ['4000056655665556', '378282246310005', '6011111111111117', '2223003122003222'];
const PANS = ['4242424242424242', '5555555555554444', '4000000000000077', '4000000000000002',
  '4000000000009995', '4000000000003220', '4000000000000259', '4000000000001976',
  '4000000000007726', '4000000000005126', ...RAW_PANS];

const logOf = { path: null };
test(`randomized concurrent money invariants (seed ${SEED})`, { timeout: 240000 }, async (t) => {
  const started = Date.now();
  try {
    await run(t);
  } catch (e) {
    e.message = `[seed ${SEED}: rerun with TENDER_INVARIANTS_SEED=${SEED}; server log ${logOf.path}] ${e.message}`;
    throw e;
  }
  t.diagnostic(`seed ${SEED}, ${((Date.now() - started) / 1000).toFixed(1)} s`);
});

async function run(t) {
  const plan = rng(SEED);
  const restart = process.env.TENDER_INVARIANTS_RESTART !== undefined
    ? process.env.TENDER_INVARIANTS_RESTART === '1' : plan.chance(0.75);
  const totalOps = WORKERS * OPS_PER_WORKER;
  const restartAt = Math.floor(totalOps * (0.25 + 0.45 * plan.next()));
  // and sometimes once more when the workers are done, while the network's disputes, pending
  // refunds, payouts and test clocks are still due: the scheduler must pick them up again
  const restartLate = restart && plan.chance(0.4);

  const env = await startTender({ merchants: 2, args: ['--rate-limit', '0'] });
  logOf.path = env.server.logPath;
  if (CHAOS > 0) pgChaos(env.dataDir, CHAOS);
  const W = {
    env,
    srv: env.server,
    port: env.port,
    gen: 0, // bumped by each restart
    killedGen: -1, // the generation whose server this test killed
    up: Promise.resolve(),
    clients: new Map(),
    keys: { A: env.merchants[0].secret_key, B: env.merchants[1].secret_key },
    keyed: [], // every keyed POST: {key, ctx, what, params, send, res}
    raw: [], // raw HTTP payments: {ctx, key, body, res}
    seen: new Map(), // id -> {ctx, object, parent}
    opsDone: 0,
    restarted: false,
    stats: { requests: 0, resent: 0, overloaded: 0, crossKeys: 0, twice: 0, together: 0, mismatched: 0, races: 0, ops: {} },
    pools: { charges: [], transfers: [], threeDS: [], clocks: [], subs: [] },
    crashed: null,
  };
  const watch = (srv) => srv.exited.then(({ code, signal }) => {
    if (W.srv === srv && W.killedGen < W.gen) W.crashed = `the server exited by itself (code ${code}, signal ${signal})`;
  });
  watch(W.srv);

  const client = (tenant) => {
    const k = `${tenant}:${W.port}`;
    if (!W.clients.has(k)) {
      W.clients.set(k, new Stripe(W.keys[tenant], {
        host: '127.0.0.1', port: W.port, protocol: 'http', maxNetworkRetries: 0, timeout: 60000,
      }));
    }
    return W.clients.get(k);
  };
  const P = { name: 'P', tenant: 'A' };
  const M = { name: 'M', tenant: 'B' };
  const bootstrap = client('A');
  const acct1 = await bootstrap.accounts.create({ type: 'express', country: 'US', metadata: { k: 'C1' } });
  const acct2 = await bootstrap.accounts.create({ type: 'custom', country: 'US', capabilities: { transfers: { requested: true } } });
  const C1 = { name: 'C1', tenant: 'A', acct: acct1.id };
  const C2 = { name: 'C2', tenant: 'A', acct: acct2.id };
  const CTXS = [P, C1, C2, M];
  note(W, P, acct1);
  note(W, P, acct2);

  // ---- sending: restarts, lost answers, in-flight keys -------------------------------------
  const opts = (ctx, key) => {
    const o = {};
    if (key) o.idempotencyKey = key;
    if (ctx.acct) o.stripeAccount = ctx.acct;
    return o;
  };
  const connectionError = (e) => e && (e.type === 'StripeConnectionError' || ['ECONNREFUSED', 'ECONNRESET', 'EPIPE'].includes(e.code));
  // One request to completion: an answer lost to the restart is asked again with the same key
  // on the new server; 409 idempotency_key_in_use (the same key still running) waits and asks
  // again. Resolves {ok, body} or {ok: false, err} (an API error); a 5xx or a connection lost
  // without a restart fails the test.
  async function call(ctx, send, key) {
    for (let attempt = 0; attempt < 400; attempt++) {
      if (W.crashed) throw new Error(`${W.crashed}; log tail:\n${logTail(W)}`);
      const gen = W.gen;
      W.stats.requests++;
      try {
        const body = await send(client(ctx.tenant), opts(ctx, key));
        return { ok: true, body, replayed: body.lastResponse.headers['idempotent-replayed'] === 'true', attempt };
      } catch (e) {
        if (connectionError(e)) {
          if (W.killedGen >= gen) {
            W.stats.resent++;
            await W.up;
            continue;
          }
          await sleep(200);
          throw new Error(`connection failed without a restart (${e.message}): ${W.crashed || 'server alive'}; log tail:\n${logTail(W)}`);
        }
        if (e.statusCode === 409 && e.code === 'idempotency_key_in_use') {
          await sleep(25);
          continue;
        }
        // 503 with Stripe-Should-Retry: nothing was done (PostgreSQL ran out of retries after
        // serialization failures): retried with the same key, as the SDK's own retries do
        if (e.statusCode === 503 && (e.headers || {})['stripe-should-retry'] === 'true' && W.stats.overloaded < (CHAOS > 0 || process.env.TENDER_PG_CHAOS ? 20000 : 200)) {
          W.stats.overloaded++;
          await sleep(50 + 50 * Math.random());
          continue;
        }
        if (!e.statusCode || e.statusCode >= 500) throw new Error(`${key || 'GET'} on ${ctx.name}: ${e.statusCode} ${e.message}`);
        return { ok: false, err: e, replayed: (e.headers || {})['idempotent-replayed'] === 'true', attempt };
      }
    }
    throw new Error(`${key}: still in use after 400 attempts`);
  }
  const get = async (ctx, send) => {
    const r = await call(ctx, send, null);
    if (!r.ok) throw new Error(`GET on ${ctx.name}: ${r.err.statusCode} ${r.err.message}`);
    return r.body;
  };

  // A saved answer: Stripe saves a request's outcome once its endpoint began executing, its
  // refusals (400, 404) and declines (402) too; not a 409 (a conflict with a request running at
  // the same time, lock_timeout), which may be asked again.
  const saved = (res) => res.ok || [400, 402, 404].includes(res.err.statusCode);
  const errBody = (e) => {
    const { headers, statusCode, requestId, ...rest } = e.raw;
    return rest;
  };
  function sameAnswer(a, b, what) {
    if (a.ok && b.ok) {
      assert.deepEqual(b.body, a.body, `${what}: two answers to one key`);
    } else if (a.ok || b.ok) {
      // a success saved after the other attempt failed (rolled back, nothing saved) is fine;
      // a success before it would have been replayed
      const failed = a.ok ? b : a;
      assert.ok(!saved(failed) && failed.err.statusCode < 500, `${what}: ${failed.err.message} beside a success`);
    } else if (saved(a) && saved(b)) {
      assert.deepEqual(errBody(b.err), errBody(a.err), `${what}: two refusals of one key`);
    }
  }

  // A keyed POST. build(key) makes the parameters; send(stripe, params, opts) sends them. Some
  // are sent twice (one after the other, or at once); with `alt`, some keys are reused with
  // other parameters afterwards, which must be refused.
  async function post(w, ctx, what, build, send, { alt, cross } = {}) {
    const key = `inv-${SEED}-${w.id}-${w.n++}`;
    const params = build(key);
    const fn = (s, o) => send(s, params, o);
    const mode = w.rng.weighted([['once', 84], ['again', 8], ['together', 8]]);
    let res;
    if (mode === 'together') {
      W.stats.together++;
      const [a, b] = await Promise.all([call(ctx, fn, key), call(ctx, fn, key)]);
      sameAnswer(a, b, `${what} ${key} sent twice at once`);
      res = a.ok ? a : b;
    } else {
      res = await call(ctx, fn, key);
      if (mode === 'again') {
        W.stats.twice++;
        const b = await call(ctx, fn, key);
        sameAnswer(res, b, `${what} ${key} sent again`);
        if (saved(res)) assert.ok(b.replayed, `${what} ${key}: the second answer is not marked Idempotent-Replayed`);
        if (b.ok) res = b;
      }
    }
    res.mode = mode;
    res.key = key;
    res.what = what;
    W.keyed.push({ key, ctx, what, params, fn, res });
    if (res.ok) collect(W, ctx, res.body);
    else if (res.err.raw && res.err.raw.payment_intent) collect(W, ctx, res.err.raw.payment_intent);
    if (cross && saved(res) && w.rng.chance(0.15)) {
      W.stats.crossKeys++;
      const c = await call(cross, fn, key);
      // (asked again after a restart lost its answer, it replays its own first answer: the
      // object's id below tells the two accounts' answers apart)
      assert.ok(!c.replayed || c.attempt > 0, `${what} ${key} on ${cross.name} replayed ${ctx.name}'s answer`);
      if (c.ok && res.ok) assert.notEqual(c.body.id, res.body.id, `${key} on ${cross.name} answered ${ctx.name}'s object`);
      W.keyed.push({ key, ctx: cross, what, params, fn, res: c });
      if (c.ok) collect(W, cross, c.body);
      else if (c.err.raw && c.err.raw.payment_intent) collect(W, cross, c.err.raw.payment_intent);
      res.cross = { ctx: cross, res: c };
    }
    if (alt && saved(res) && w.rng.chance(0.12)) {
      W.stats.mismatched++;
      const other = alt(params);
      const m = await call(ctx, (s, o) => send(s, other, o), key);
      assert.ok(!m.ok && m.err.statusCode === 400 && m.err.raw.type === 'idempotency_error',
        `${what} ${key} with other parameters: ${m.ok ? 'accepted' : m.err.message}`);
    }
    return res;
  }

  // ---- the operations ---------------------------------------------------------------------
  const must = (res) => assert.ok(res.ok, res.ok || `${res.what} ${res.key} (${res.mode}, attempt ${res.attempt}, ` +
    `request ${res.err.requestId}${res.replayed ? ', replayed' : ''}): ${res.err.statusCode} ${res.err.message}`);
  const withAmount = (p) => ({ ...p, amount: p.amount + 1 });
  const cardFor = (r) => r.weighted([
    ['pm_card_visa', 30], ['pm_card_mastercard', 8], ['pm_card_bypassPending', 16],
    ['pm_card_createDispute', 5], ['pm_card_createDisputeInquiry', 2], ['pm_card_chargeDeclined', 5],
    ['pm_card_visa_chargeDeclinedInsufficientFunds', 5], ['pm_card_threeDSecure2Required', 4],
    ['pm_card_pendingRefund', 3], ['pm_card_refundFail', 3],
  ]);
  const USD_ONLY = /Dispute|Refund|refund/;
  const amountFor = (r, currency) => (currency === 'jpy' ? r.int(100, 30000) : r.int(100, 20000));
  const addCharge = (w, ctx, body, extra) => {
    const ch = {
      ctx, worker: w.id, id: typeof body.latest_charge === 'string' ? body.latest_charge : body.id,
      pi: body.object === 'payment_intent' ? body.id : null, currency: body.currency, refunded: 0, ...extra,
    };
    W.pools.charges.push(ch);
    return ch;
  };

  async function piAuto(w) {
    const r = w.rng;
    const ctx = r.pick([P, P, M, M, C1]);
    const card = cardFor(r);
    const currency = USD_ONLY.test(card) || ctx === C1 ? 'usd' : r.weighted([['usd', 6], ['eur', 2], ['jpy', 2]]);
    const amount = amountFor(r, currency);
    const fee = ctx === C1 && r.chance(0.6) ? r.int(1, Math.floor(amount / 8)) : 0;
    // the same key on another account is another request (keys are per account): sometimes
    const cross = !fee && currency === 'usd' ? r.pick([P, M, C1].filter((x) => x !== ctx)) : null;
    const res = await post(w, ctx, 'payment_intents.create', (k) => ({
      amount, currency, payment_method: card, confirm: true, metadata: { k },
      ...(fee ? { application_fee_amount: fee } : {}),
    }), (s, p, o) => s.paymentIntents.create(p, o), { alt: withAmount, cross });
    const settled = (at, x) => {
      if (!x.ok) return;
      const pi = x.body;
      if (pi.status === 'requires_action') W.pools.threeDS.push({ ctx: at, id: pi.id });
      else {
        assert.equal(pi.status, 'succeeded', `${pi.id}: ${pi.status}`);
        addCharge(w, at, pi, { captured: pi.amount_received, card, kind: at === C1 ? 'direct' : 'plain', fee });
      }
    };
    if (res.cross) settled(res.cross.ctx, res.cross.res);
    if (res.ok) {
      settled(ctx, res);
      return;
    }
    assert.equal(res.err.statusCode, 402, res.err.message);
    const failed = res.err.raw.payment_intent;
    assert.equal(failed.status, 'requires_payment_method');
    if (r.chance(0.5)) {
      // the customer tries again with a good card: the intent's second charge
      const again = await post(w, ctx, 'payment_intents.confirm', () => ({ payment_method: 'pm_card_visa' }),
        (s, p, o) => s.paymentIntents.confirm(failed.id, p, o));
      must(again);
      assert.equal(again.body.status, 'succeeded');
      addCharge(w, ctx, again.body, { captured: again.body.amount_received, card: 'pm_card_visa', kind: ctx === C1 ? 'direct' : 'plain', fee });
    }
  }

  async function piManual(w) {
    const r = w.rng;
    const ctx = r.pick([P, M, C1]);
    const card = r.weighted([['pm_card_visa', 5], ['pm_card_mastercard', 2], ['pm_card_createDispute', 1], ['pm_card_bypassPending', 2]]);
    const currency = card === 'pm_card_createDispute' || ctx === C1 ? 'usd' : r.weighted([['usd', 6], ['eur', 2], ['jpy', 2]]);
    const amount = amountFor(r, currency);
    const res = await post(w, ctx, 'payment_intents.create manual', (k) => ({
      amount, currency, payment_method: card, confirm: true, capture_method: 'manual', metadata: { k },
    }), (s, p, o) => s.paymentIntents.create(p, o), { alt: withAmount });
    must(res);
    const pi = res.body;
    assert.equal(pi.status, 'requires_capture');
    const what = r.weighted([['full', 30], ['partial', 30], ['cancel', 15], ['race', 10], ['leave', 15]]);
    const capture = (amt) => post(w, ctx, 'payment_intents.capture', () => (amt ? { amount_to_capture: amt } : {}),
      (s, p, o) => s.paymentIntents.capture(pi.id, p, o));
    const cancel = () => post(w, ctx, 'payment_intents.cancel', () => ({}), (s, p, o) => s.paymentIntents.cancel(pi.id, p, o));
    if (what === 'leave') return;
    if (what === 'cancel') {
      const c = await cancel();
      assert.ok(c.ok && c.body.status === 'canceled', c.ok ? c.body.status : c.err.message);
      return;
    }
    const part = what === 'partial' ? r.int(Math.min(amount, currency === 'jpy' ? 100 : 60), amount) : 0;
    if (what === 'race') {
      // a capture and a cancel at once: exactly one of them wins
      W.stats.races++;
      const second = r.chance(0.5) ? cancel : () => capture(r.int(Math.min(amount, 100), amount));
      const [a, b] = await Promise.all([capture(0), second()]);
      assert.equal(Number(a.ok) + Number(b.ok), 1, `two captures (or capture and cancel) of ${pi.id} both ${a.ok ? 'won' : 'lost'}`);
      if (b.ok && b.body.status === 'succeeded') addCharge(w, ctx, b.body, { captured: b.body.amount_received, card, kind: ctx === C1 ? 'direct' : 'plain', fee: 0 });
      if (a.ok) addCharge(w, ctx, a.body, { captured: a.body.amount_received, card, kind: ctx === C1 ? 'direct' : 'plain', fee: 0 });
      return;
    }
    const c = await capture(part);
    must(c);
    assert.equal(c.body.status, 'succeeded');
    assert.equal(c.body.amount_received, part || amount);
    addCharge(w, ctx, c.body, { captured: c.body.amount_received, card, kind: ctx === C1 ? 'direct' : 'plain', fee: 0 });
  }

  async function destination(w) {
    const r = w.rng;
    const amount = r.int(1000, 20000);
    const manual = r.chance(0.3);
    const shape = r.weighted([['fee', 6], ['amount', 2], ['plain', 2]]);
    const fee = shape === 'fee' ? r.int(1, Math.floor(amount / 5)) : 0;
    const res = await post(w, P, 'destination charge', (k) => ({
      amount, currency: 'usd', payment_method: r.pick(['pm_card_visa', 'pm_card_bypassPending']), confirm: true,
      ...(manual ? { capture_method: 'manual' } : {}),
      ...(fee ? { application_fee_amount: fee } : {}),
      transfer_data: { destination: C1.acct, ...(shape === 'amount' ? { amount: r.int(Math.floor(amount / 2), amount) } : {}) },
      metadata: { k },
    }), (s, p, o) => s.paymentIntents.create(p, o), { alt: withAmount });
    must(res);
    let pi = res.body;
    if (manual) {
      const part = r.chance(0.5) ? r.int(Math.max(fee, 100), amount) : 0;
      const c = await post(w, P, 'destination capture', () => (part ? { amount_to_capture: part } : {}),
        (s, p, o) => s.paymentIntents.capture(pi.id, p, o));
      must(c);
      pi = c.body;
    }
    addCharge(w, P, pi, { captured: pi.amount_received, card: 'pm_card_visa', kind: 'dest', fee });
    // its transfer may be reversed on its own too, racing refunds that reverse it
    const ch = await get(P, (c, o) => c.charges.retrieve(pi.latest_charge, {}, o));
    const tr = await get(P, (c, o) => c.transfers.retrieve(ch.transfer, {}, o));
    W.pools.transfers.push({ worker: w.id, dest: C1, id: tr.id, amount: tr.amount, reversed: 0, ofCharge: true });
  }

  async function legacy(w) {
    const r = w.rng;
    const ctx = r.pick([P, M]);
    const amount = r.int(100, 15000);
    const how = r.weighted([['token', 4], ['customer', 3], ['raw', 2]]);
    let source;
    let customer;
    if (how === 'customer') {
      const c = await post(w, ctx, 'customers.create', (k) => ({ source: r.pick(['tok_visa', 'tok_mastercard']), metadata: { k } }),
        (s, p, o) => s.customers.create(p, o));
      must(c);
      customer = c.body.id;
    } else if (how === 'raw') {
      // a token made from a raw card number (test mode takes them): the number must never land on disk
      const tok = await post(w, ctx, 'tokens.create', () => ({
        card: rawCard(r.pick(RAW_PANS), 12, 2034),
      }), (s, p, o) => s.tokens.create(p, o));
      must(tok);
      source = tok.body.id;
    } else {
      source = r.pick(['tok_visa', 'tok_mastercard', 'tok_bypassPending']);
    }
    const uncaptured = r.chance(0.25);
    const res = await post(w, ctx, 'charges.create', (k) => ({
      amount, currency: 'usd', ...(customer ? { customer } : { source }), metadata: { k },
      ...(uncaptured ? { capture: false } : {}),
    }), (s, p, o) => s.charges.create(p, o), { alt: withAmount });
    must(res);
    let ch = res.body;
    if (uncaptured) {
      if (r.chance(0.2)) return; // an authorization left as it is
      const part = r.chance(0.5) ? r.int(60, amount) : 0;
      const c = await post(w, ctx, 'charges.capture', () => (part ? { amount: part } : {}), (s, p, o) => s.charges.capture(ch.id, p, o));
      must(c);
      ch = c.body;
      assert.equal(ch.amount_captured, part || amount);
    }
    addCharge(w, ctx, ch, { captured: ch.amount_captured, card: source || 'customer', kind: 'plain', fee: 0 });
  }

  async function rawPaymentMethod(w) {
    const r = w.rng;
    const ctx = r.pick([P, M]);
    const pm = await post(w, ctx, 'payment_methods.create', (k) => ({
      type: 'card', card: rawCard(r.pick(RAW_PANS), 11, 2033), metadata: { k },
    }), (s, p, o) => s.paymentMethods.create(p, o));
    must(pm);
    const res = await post(w, ctx, 'payment_intents.create raw pm', (k) => ({
      amount: r.int(100, 9000), currency: 'usd', payment_method: pm.body.id, confirm: true, metadata: { k },
    }), (s, p, o) => s.paymentIntents.create(p, o));
    must(res);
    addCharge(w, ctx, res.body, { captured: res.body.amount_received, card: 'raw', kind: 'plain', fee: 0 });
  }

  // The same payment through raw HTTP: its answers (and their replays) compared byte for byte.
  async function rawHttp(ctx, key, body) {
    for (let attempt = 0; attempt < 400; attempt++) {
      const gen = W.gen;
      W.stats.requests++;
      const headers = { 'Idempotency-Key': key, ...(ctx.acct ? { 'Stripe-Account': ctx.acct } : {}) };
      let res;
      try {
        res = await request({ port: W.port, method: 'POST', path: '/v1/payment_intents', key: W.keys[ctx.tenant], body, headers });
      } catch (e) {
        if (W.killedGen >= gen) {
          W.stats.resent++;
          await W.up;
          continue;
        }
        throw new Error(`raw ${key}: connection failed without a restart (${e.message}); log tail:\n${logTail(W)}`);
      }
      if (res.status === 409 && res.json.error.code === 'idempotency_key_in_use') {
        await sleep(25);
        continue;
      }
      if (res.status === 503 && res.headers['stripe-should-retry'] === 'true') {
        W.stats.overloaded++;
        await sleep(50);
        continue;
      }
      return res;
    }
    throw new Error(`raw ${key}: still in use after 400 attempts`);
  }
  async function rawPi(w) {
    const r = w.rng;
    const ctx = r.pick([P, M, C1]);
    const key = `inv-${SEED}-${w.id}-${w.n++}`;
    const card = r.pick(['pm_card_visa', 'pm_card_chargeDeclined', 'pm_card_bypassPending']);
    const body = `amount=${r.int(100, 9000)}&currency=usd&payment_method=${card}&confirm=true&metadata[k]=${key}`;
    const two = r.chance(0.3);
    const answers = two ? await Promise.all([rawHttp(ctx, key, body), rawHttp(ctx, key, body)]) : [await rawHttp(ctx, key, body)];
    const first = answers[0];
    assert.ok(first.status === 200 || first.status === 402, `raw ${key}: ${first.status} ${first.body}`);
    if (two) assert.equal(answers[1].body, first.body, `raw ${key} sent twice at once: two answers`);
    W.raw.push({ ctx, key, body, res: first });
    if (first.status === 200) {
      collect(W, ctx, first.json);
      addCharge(w, ctx, first.json, { captured: first.json.amount_received, card, kind: ctx === C1 ? 'direct' : 'plain', fee: 0 });
    } else collect(W, ctx, first.json.error.payment_intent);
  }

  async function refund(w) {
    const r = w.rng;
    // mostly this worker's own charges; sometimes anyone's, racing its owner
    const any = r.chance(0.25);
    const mine = W.pools.charges.filter((c) => (any || c.worker === w.id) && c.captured > c.refunded);
    if (mine.length === 0) return piAuto(w);
    const ch = r.pick(mine);
    const by = ch.pi && r.chance(0.5) ? { payment_intent: ch.pi } : { charge: ch.id };
    const extra = () => ({
      ...(ch.kind === 'dest' && r.chance(0.6) ? { reverse_transfer: true } : {}),
      ...(ch.fee && r.chance(0.6) ? { refund_application_fee: true } : {}),
    });
    const one = (amount) => post(w, ch.ctx, 'refunds.create', (k) => ({ ...by, ...(amount ? { amount } : {}), ...extra(), metadata: { k } }),
      (s, p, o) => s.refunds.create(p, o), { alt: amount ? withAmount : undefined });
    const left = ch.captured - ch.refunded;
    const how = r.weighted([['partial', 5], ['full', 3], ['three', 2]]);
    const results = how === 'three'
      ? (W.stats.races++, await Promise.all([0, 1, 2].map(() => one(Math.max(1, Math.ceil(left * 0.4))))))
      : [await one(how === 'full' ? 0 : r.int(1, left))];
    for (const res of results) {
      if (res.ok) ch.refunded += res.body.amount;
      else assert.equal(res.err.statusCode, 400, res.err.message);
    }
    if (how === 'three' && results.every((x) => !x.ok) && ch.card !== 'pm_card_refundFail') {
      // three refunds of 40 % each of what was left: two fit, unless a dispute or another
      // worker's refunds took it first (what is left of a charge never grows back, except when a
      // refund fails, which this card does not do)
      const ask = Math.max(1, Math.ceil(left * 0.4));
      const now = await get(ch.ctx, (c, o) => c.charges.retrieve(ch.id, {}, o));
      // amount_refunded counts what a partial capture released, as Stripe shows it
      assert.ok(now.disputed || now.amount - now.amount_refunded < ask,
        `${ch.id}: none of three refunds of ${ask} went through (${results.map((x) => x.err.message)}) yet ${now.amount - now.amount_refunded} is left`);
    }
  }

  const available = async (ctx) => {
    const b = await get(ctx, (c, o) => c.balance.retrieve({}, o));
    return (b.available.find((x) => x.currency === 'usd') || { amount: 0 }).amount;
  };

  async function payout(w) {
    const r = w.rng;
    const ctx = r.weighted([[P, 2], [M, 2], [C2, 3]]);
    // a share of what is available now (other workers move it meanwhile): some ask for more
    const avail = await available(ctx);
    const ask = () => Math.max(100, Math.floor(avail * r.pick([0.1, 0.3, 0.45, 0.7, 1, 1.3])));
    const one = (amount) => post(w, ctx, 'payouts.create', (k) => ({ amount, currency: 'usd', metadata: { k } }),
      (s, p, o) => s.payouts.create(p, o), { alt: withAmount });
    const n = r.chance(0.3) ? 3 : 1;
    const amounts = Array.from({ length: n }, ask);
    const results = await Promise.all(amounts.map(one));
    for (const res of results) {
      if (!res.ok) {
        assert.ok(['balance_insufficient', 'lock_timeout'].includes(res.err.code), res.err.message);
        continue;
      }
      if (r.chance(0.2)) {
        // a cancel races the scheduler, which pays it two seconds after it was made
        const c = await post(w, ctx, 'payouts.cancel', () => ({}), (s, p, o) => s.payouts.cancel(res.body.id, p, o));
        if (!c.ok) assert.equal(c.err.statusCode, 400, c.err.message);
      }
    }
  }

  async function transfer(w) {
    const r = w.rng;
    const dest = r.pick([C1, C2]);
    const funding = W.pools.charges.filter((c) => c.worker === w.id && c.ctx === P && c.kind === 'plain' && c.currency === 'usd' && c.captured >= 200);
    const fromCharge = funding.length > 0 && r.chance(0.35) ? r.pick(funding) : null;
    const amount = fromCharge ? r.int(100, Math.floor(fromCharge.captured / 2))
      : Math.max(100, Math.floor((await available(P)) * r.pick([0.05, 0.2, 0.4, 1.2])));
    const res = await post(w, P, 'transfers.create', (k) => ({
      amount, currency: 'usd', destination: dest.acct, metadata: { k },
      ...(fromCharge ? { source_transaction: fromCharge.id } : {}),
    }), (s, p, o) => s.transfers.create(p, o), { alt: withAmount });
    if (!res.ok) {
      assert.ok(['balance_insufficient', 'lock_timeout'].includes(res.err.code) || fromCharge, res.err.message);
      assert.equal(res.err.statusCode < 500, true);
      return;
    }
    W.pools.transfers.push({ worker: w.id, dest, id: res.body.id, amount, reversed: 0 });
  }

  async function reversal(w) {
    const r = w.rng;
    // reversals only of transfers to C1: C2's only debits are its payouts (see the overdraw check)
    const mine = W.pools.transfers.filter((x) => x.worker === w.id && x.dest === C1 && x.amount > x.reversed);
    if (mine.length === 0) return transfer(w);
    const tr = r.pick(mine);
    const left = tr.amount - tr.reversed;
    const one = (amount) => post(w, P, 'transfers.createReversal', (k) => ({ ...(amount ? { amount } : {}), metadata: { k } }),
      (s, p, o) => s.transfers.createReversal(tr.id, p, o), { alt: amount ? withAmount : undefined });
    const how = r.weighted([['partial', 4], ['full', 2], ['three', 2]]);
    const results = how === 'three'
      ? (W.stats.races++, await Promise.all([0, 1, 2].map(() => one(Math.max(1, Math.ceil(left * 0.4))))))
      : [await one(how === 'full' ? 0 : r.int(1, left))];
    let done = 0;
    for (const res of results) {
      if (res.ok) {
        tr.reversed += res.body.amount;
        done++;
      } else assert.equal(res.err.statusCode, 400, res.err.message);
    }
    // (a destination charge's transfer is also reversed by refunds meanwhile: fewer may fit)
    const ask = Math.max(1, Math.ceil(left * 0.4));
    if (how === 'three' && !tr.ofCharge) assert.equal(done, Math.min(3, Math.floor(left / ask)), `${tr.id}: ${done} of three reversals of ${ask} from ${left}`);
  }

  async function feeRefund(w) {
    const r = w.rng;
    const withFee = W.pools.charges.filter((c) => c.fee > 0 && c.captured > 0);
    if (withFee.length === 0) return destination(w);
    const c0 = r.pick(withFee);
    const ch = await get(c0.ctx, (c, o) => c.charges.retrieve(c0.id, {}, o));
    const fee = await get(P, (c, o) => c.applicationFees.retrieve(ch.application_fee, {}, o));
    const left = fee.amount - fee.amount_refunded;
    const n = r.chance(0.3) ? 2 : 1;
    const results = await Promise.all(Array.from({ length: n }, () => post(w, P, 'application_fees.createRefund',
      (k) => ({ ...(r.chance(0.3) || left < 2 ? {} : { amount: r.int(1, left) }), metadata: { k } }),
      (s, p, o) => s.applicationFees.createRefund(fee.id, p, o))));
    for (const res of results) if (!res.ok) assert.equal(res.err.statusCode, 400, res.err.message);
  }

  async function subscription(w) {
    const r = w.rng;
    const ctx = M;
    if (!w.price) {
      const p = await post(w, ctx, 'prices.create', (k) => ({
        currency: 'usd', unit_amount: r.int(500, 5000), recurring: { interval: 'month' }, product_data: { name: `plan ${w.id}` }, metadata: { k },
      }), (s, p2, o) => s.prices.create(p2, o));
      must(p);
      w.price = p.body.id;
      collect(W, ctx, await get(ctx, (c, o) => c.products.retrieve(p.body.product, {}, o)));
    }
    const frozen = Math.floor(Date.now() / 1000 / DAY) * DAY - 150 * DAY + w.id * 3600;
    const clock = await post(w, ctx, 'test_clocks.create', () => ({ frozen_time: frozen, name: `w${w.id}` }),
      (s, p, o) => s.testHelpers.testClocks.create(p, o));
    must(clock);
    const pm = r.pick(['pm_card_visa', 'pm_card_mastercard']);
    const cus = await post(w, ctx, 'customers.create clock', (k) => ({
      test_clock: clock.body.id, payment_method: pm, invoice_settings: { default_payment_method: pm }, metadata: { k },
    }), (s, p, o) => s.customers.create(p, o));
    must(cus);
    if (r.chance(0.6)) {
      const ii = await post(w, ctx, 'invoiceitems.create', (k) => ({
        customer: cus.body.id, amount: r.int(100, 4000), currency: 'usd', description: 'setup', metadata: { k },
      }), (s, p, o) => s.invoiceItems.create(p, o), { alt: withAmount });
      must(ii);
    }
    const sub = await post(w, ctx, 'subscriptions.create', (k) => ({
      customer: cus.body.id, items: [{ price: w.price, quantity: r.int(1, 3) }], metadata: { k },
    }), (s, p, o) => s.subscriptions.create(p, o));
    must(sub);
    assert.equal(sub.body.status, 'active');
    const periods = r.int(1, 2);
    W.pools.subs.push({ ctx, id: sub.body.id, periods });
    if (r.chance(0.5)) {
      const ii = await post(w, ctx, 'invoiceitems.create', (k) => ({
        customer: cus.body.id, subscription: sub.body.id, amount: r.int(100, 3000), currency: 'usd', metadata: { k },
      }), (s, p, o) => s.invoiceItems.create(p, o));
      must(ii);
    }
    // 31 days and an hour cross one monthly renewal, 62 days two (months have 28 to 31 days)
    const to = frozen + periods * 31 * DAY + 3600;
    const adv = await post(w, ctx, 'test_clocks.advance', () => ({ frozen_time: to }),
      (s, p, o) => s.testHelpers.testClocks.advance(clock.body.id, p, o));
    must(adv);
    W.pools.clocks.push({ ctx, id: clock.body.id, to });
    if (r.chance(0.5)) await clockReady(ctx, clock.body.id, to); // else it advances meanwhile
  }
  async function clockReady(ctx, id, to) {
    for (let i = 0; ; i++) {
      const c = await get(ctx, (s, o) => s.testHelpers.testClocks.retrieve(id, {}, o));
      if (c.status === 'ready') {
        assert.equal(c.frozen_time, to, `clock ${id}`);
        return;
      }
      assert.ok(i < 600, `clock ${id} still ${c.status}`);
      await sleep(100);
    }
  }

  const OPS = [
    [piAuto, 22], [piManual, 10], [destination, 7], [legacy, 8], [rawPaymentMethod, 3], [refund, 18],
    [payout, 9], [transfer, 8], [reversal, 6], [feeRefund, 3], [subscription, 2], [rawPi, 3],
  ];

  async function worker(id) {
    const w = { id, rng: rng((SEED ^ Math.imul(id + 1, 0x9e3779b9)) >>> 0), n: 0, price: null };
    for (let i = 0; i < OPS_PER_WORKER; i++) {
      const op = w.rng.weighted(OPS);
      W.stats.ops[op.name] = (W.stats.ops[op.name] || 0) + 1;
      await op(w);
      if (++W.opsDone === restartAt && restart) kill(); // not awaited: the others run into it
    }
  }

  // SIGKILL, then the same store again: the requests in flight lose their answers, and call()
  // sends each of them again, with its key, once the new server listens.
  let restarting = null;
  function kill() {
    let resolve;
    W.up = new Promise((r) => { resolve = r; });
    W.killedGen = W.gen;
    const old = W.srv;
    old.child.kill('SIGKILL');
    restarting = (async () => {
      await old.exited;
      const srv = await startServer({ dataDir: env.dataDir, keyFile: env.keyFile, args: ['--rate-limit', '0'] });
      W.srv = srv;
      W.port = srv.port;
      W.gen++;
      W.restarted = true;
      watch(srv);
      resolve();
    })();
  }

  await Promise.all(Array.from({ length: WORKERS }, (_, i) => worker(i)));
  if (restarting) await restarting;
  assert.equal(W.restarted, restart, 'the planned restart happened');
  if (restartLate) {
    kill();
    await restarting;
  }
  const s = (ctx) => ({ c: client(ctx.tenant), o: opts(ctx) });
  const all = async (ctx, list) => {
    const { c, o } = s(ctx);
    const items = await list(c, o).autoPagingToArray({ limit: 10000 });
    for (const x of items) collect(W, ctx, x);
    return items;
  };

  // ---- settle: disputes opened by the network, evidence decided, refunds settled ------------
  const disputeCards = W.pools.charges.filter((c) => /createDispute/.test(c.card) && c.captured > 0);
  for (const ch of disputeCards) {
    await waitFor(async () => {
      const x = await get(ch.ctx, (c, o) => c.charges.retrieve(ch.id, {}, o));
      return x.disputed || x.amount_refunded === x.amount;
    }, `the network's dispute of ${ch.id}`);
  }
  const submitted = [];
  for (const ctx of [P, M]) {
    for (const d of await all(ctx, (c, o) => c.disputes.list({ limit: 100 }, o))) {
      if (d.status !== 'needs_response' || !plan.chance(0.6)) continue;
      const text = plan.chance(0.5) ? 'winning_evidence' : 'losing_evidence';
      const u = await post({ id: 'd', n: submitted.length, rng: plan }, ctx, 'disputes.update',
        () => ({ evidence: { uncategorized_text: text }, metadata: { k: `d${submitted.length}` } }),
        (c, p, o) => c.disputes.update(d.id, p, o));
      must(u);
      submitted.push({ ctx, id: d.id, want: text === 'winning_evidence' ? 'won' : 'lost' });
    }
  }
  for (const d of submitted) {
    await waitFor(async () => (await get(d.ctx, (c, o) => c.disputes.retrieve(d.id, {}, o))).status === d.want, `dispute ${d.id} ${d.want}`);
  }
  // every clock reached its time, and each subscription was paid for each period it entered
  for (const c of W.pools.clocks) await clockReady(c.ctx, c.id, c.to);
  for (const x of W.pools.subs) {
    const sub = await get(x.ctx, (c, o) => c.subscriptions.retrieve(x.id, {}, o));
    assert.equal(sub.status, 'active', `${x.id}`);
    const invs = await get(x.ctx, (c, o) => c.invoices.list({ subscription: x.id, limit: 10 }, o));
    assert.deepEqual(invs.data.map((i) => i.status), Array(x.periods + 1).fill('paid'), `${x.id}: its invoices after ${x.periods} periods`);
  }
  const failing = new Set(W.pools.charges.filter((c) => c.card === 'pm_card_refundFail').map((c) => c.id));
  await waitFor(async () => {
    for (const ctx of CTXS) {
      const rs = await all(ctx, (c, o) => c.refunds.list({ limit: 100 }, o));
      if (rs.some((x) => x.status === 'pending' || (failing.has(x.charge) && x.status === 'succeeded'))) return false;
    }
    return true;
  }, 'pending and failing refunds to settle');

  // ---- replays: every saved answer, asked again with its key, is the same ------------------
  const replays = W.keyed.filter((x) => saved(x.res));
  await pool(8, replays, async (x) => {
    const again = await call(x.ctx, x.fn, x.key);
    assert.ok(again.replayed, `${x.what} ${x.key}: not replayed (${again.ok ? again.body.id : again.err.message})`);
    if (x.res.ok) {
      assert.ok(again.ok, `${x.what} ${x.key} answered ${x.res.body.id}, replayed ${again.ok || again.err.message}`);
      assert.deepEqual(again.body, x.res.body, `${x.what} ${x.key}: the replay differs`);
    } else {
      assert.ok(!again.ok);
      assert.deepEqual(errBody(again.err), errBody(x.res.err), `${x.what} ${x.key}: the replayed error differs`);
    }
  });

  await pool(8, W.raw, async (x) => {
    const again = await rawHttp(x.ctx, x.key, x.body);
    assert.equal(again.headers['idempotent-replayed'], 'true', `raw ${x.key}: not replayed`);
    assert.equal(again.status, x.res.status, `raw ${x.key}: replayed status`);
    assert.equal(again.body, x.res.body, `raw ${x.key}: the replay differs byte for byte`);
  });

  // ---- gather every account's objects --------------------------------------------------------
  const book = {};
  for (const ctx of CTXS) {
    const b = { ctx };
    b.pis = await all(ctx, (c, o) => c.paymentIntents.list({ limit: 100 }, o));
    b.charges = await all(ctx, (c, o) => c.charges.list({ limit: 100 }, o));
    b.refunds = await all(ctx, (c, o) => c.refunds.list({ limit: 100 }, o));
    b.disputes = await all(ctx, (c, o) => c.disputes.list({ limit: 100 }, o));
    b.payouts = await all(ctx, (c, o) => c.payouts.list({ limit: 100 }, o));
    b.transfers = await all(ctx, (c, o) => c.transfers.list({ limit: 100 }, o));
    b.fees = await all(ctx, (c, o) => c.applicationFees.list({ limit: 100 }, o));
    b.customers = await all(ctx, (c, o) => c.customers.list({ limit: 100 }, o));
    b.subs = await all(ctx, (c, o) => c.subscriptions.list({ limit: 100, status: 'all' }, o));
    b.invoices = await all(ctx, (c, o) => c.invoices.list({ limit: 100 }, o));
    b.items = await all(ctx, (c, o) => c.invoiceItems.list({ limit: 100 }, o));
    b.events = (await s(ctx).c.events.list({ limit: 30 }, s(ctx).o)).data;
    for (const e of b.events) note(W, ctx, e);
    // a balance read on both sides of the balance transactions: the scheduler may make funds
    // available meanwhile (test clocks' charges are in the past); then read again
    for (let i = 0; ; i++) {
      const before = await s(ctx).c.balance.retrieve({}, s(ctx).o);
      b.bts = await all(ctx, (c, o) => c.balanceTransactions.list({ limit: 100 }, o));
      const afterwards = await s(ctx).c.balance.retrieve({}, s(ctx).o);
      if (JSON.stringify(before) === JSON.stringify(afterwards)) {
        b.balance = afterwards;
        break;
      }
      assert.ok(i < 20, `${ctx.name}: the balance keeps changing`);
      await sleep(500);
    }
    b.btById = new Map(b.bts.map((x) => [x.id, x]));
    book[ctx.name] = b;
  }
  const counts = Object.fromEntries(CTXS.map((c) => [c.name, `${book[c.name].charges.length} charges, ${book[c.name].refunds.length} refunds, ${book[c.name].bts.length} balance txns`]));

  // ---- acknowledged objects, keys, refused requests ---------------------------------------
  {
    const byKey = new Map(W.keyed.map((x) => [`${x.ctx.name}|${x.key}`, x]));
    for (const x of W.raw) {
      byKey.set(`${x.ctx.name}|${x.key}`, { ...x, res: x.res.status === 200 ? { ok: true, body: x.res.json }
        : { ok: false, err: { raw: x.res.json.error, message: x.res.json.error.message } } });
    }
    const tagged = [];
    for (const b of Object.values(book)) {
      for (const [type, list] of [['payment_intent', b.pis], ['charge', b.charges.filter((c) => !c.payment_intent)],
        ['refund', b.refunds], ['payout', b.payouts], ['transfer', b.transfers], ['customer', b.customers],
        ['subscription', b.subs], ['invoiceitem', b.items]]) {
        const seenKeys = new Map();
        for (const o of list) {
          const k = o.metadata && o.metadata.k;
          if (!k || !k.startsWith('inv-')) continue;
          assert.ok(!seenKeys.has(k), `${b.ctx.name}: key ${k} made two ${type}s: ${seenKeys.get(k)} and ${o.id}`);
          seenKeys.set(k, o.id);
          tagged.push({ ctx: b.ctx, type, k, id: o.id });
        }
      }
    }
    for (const x of tagged) {
      const req = byKey.get(`${x.ctx.name}|${x.k}`);
      assert.ok(req, `${x.ctx.name}: ${x.type} ${x.id} carries key ${x.k} that this test never sent there`);
      if (req.res.ok) {
        assert.equal(x.id, req.res.body.id, `${x.k}: acknowledged ${req.res.body.id}, stored ${x.id}`);
      } else {
        // a refused request: only a declined card's failed intent may exist, the one the error names
        const named = req.res.err.raw.payment_intent;
        assert.ok(named && named.id === x.id, `${x.k} was refused (${req.res.err.message}) yet made ${x.type} ${x.id}`);
      }
    }
    // every acknowledged creation is there, on its own account
    const tagIds = new Set(tagged.map((x) => x.id));
    for (const x of W.keyed) {
      if (!x.res.ok || !x.params.metadata || !x.params.metadata.k) continue;
      const o = x.res.body;
      if (['payment_intent', 'refund', 'payout', 'transfer', 'customer', 'subscription', 'invoiceitem'].includes(o.object) ||
        (o.object === 'charge' && !o.payment_intent)) {
        if (o.metadata.k === x.key) assert.ok(tagIds.has(o.id), `${x.what} ${x.key}: acknowledged ${o.id} is not listed`);
      }
    }
  }

  // ---- money, per charge and intent --------------------------------------------------------
  const sum = (xs, f) => xs.reduce((a, x) => a + f(x), 0);
  const live = (rf) => rf.status === 'succeeded' || rf.status === 'pending';
  for (const b of Object.values(book)) {
    const refundsOf = new Map();
    for (const rf of b.refunds) {
      if (!refundsOf.has(rf.charge)) refundsOf.set(rf.charge, []);
      refundsOf.get(rf.charge).push(rf);
    }
    const chargeById = new Map(b.charges.map((c) => [c.id, c]));
    for (const ch of b.charges) {
      const where = `${b.ctx.name} ${ch.id}`;
      assert.ok(ch.amount_captured <= ch.amount, `${where}: captured ${ch.amount_captured} of ${ch.amount}`);
      // Stripe counts what an authorization released uncaptured (a cancel, the rest of a
      // partial capture) as refunded, with a refund of its own that moved no money (no balance
      // transaction); the money refunded never exceeds the money captured
      assert.ok(ch.amount_refunded <= ch.amount, `${where}: refunded ${ch.amount_refunded} of ${ch.amount}`);
      const rfs = refundsOf.get(ch.id) || [];
      assert.equal(sum(rfs.filter(live), (x) => x.amount), ch.amount_refunded, `${where}: its refunds do not add up to amount_refunded`);
      const released = sum(rfs.filter((x) => live(x) && x.balance_transaction === null), (x) => x.amount);
      assert.equal(released, ch.captured ? ch.amount - ch.amount_captured : (ch.amount_refunded ? ch.amount : 0), `${where}: released uncaptured`);
      assert.ok(ch.amount_refunded - released <= ch.amount_captured, `${where}: refunded ${ch.amount_refunded - released} of ${ch.amount_captured} captured`);
      assert.equal(ch.refunded, ch.amount > 0 && ch.amount_refunded === ch.amount, `${where}: refunded flag`);
      if (ch.status !== 'succeeded') {
        assert.equal(ch.amount_captured, 0, `${where}: a ${ch.status} charge captured money`);
        continue;
      }
      if (!ch.captured) {
        assert.equal(ch.amount_captured, 0, `${where}: uncaptured`);
        assert.equal(ch.balance_transaction, null, `${where}: an authorization has no balance transaction`);
        continue;
      }
      const bt = b.btById.get(ch.balance_transaction);
      assert.ok(bt, `${where}: its balance transaction ${ch.balance_transaction} is not listed`);
      assert.equal(bt.source, ch.id);
      assert.equal(bt.currency, 'usd', `${where}: settled in ${bt.currency}`);
      if (ch.currency === 'usd') {
        assert.equal(bt.amount, ch.amount_captured, `${where}: balance transaction amount`);
        assert.equal(bt.exchange_rate, null);
      } else {
        assert.ok(Math.abs(bt.amount - ch.amount_captured * bt.exchange_rate * (ch.currency === 'jpy' ? 100 : 1)) <= 1,
          `${where}: ${ch.amount_captured} ${ch.currency} × ${bt.exchange_rate} settled as ${bt.amount} usd`);
      }
      assert.equal(bt.net, bt.amount - bt.fee);
      // refunds give back at most what the charge brought, all of it when fully refunded
      const back = -sum(rfs.filter((x) => live(x) && x.balance_transaction !== null), (x) => b.btById.get(x.balance_transaction).amount);
      assert.ok(back <= bt.amount, `${where}: refunds took ${back} of the ${bt.amount} it brought`);
      if (ch.refunded) assert.equal(back, bt.amount, `${where}: fully refunded, ${back} of ${bt.amount} given back`);
    }
    for (const pi of b.pis) {
      const where = `${b.ctx.name} ${pi.id}`;
      const ch = pi.latest_charge ? chargeById.get(pi.latest_charge) : null;
      if (pi.status === 'succeeded') {
        assert.ok(ch, `${where}: no charge listed`);
        assert.equal(pi.amount_received, ch.amount_captured, `${where}: amount_received vs its charge`);
        assert.equal(ch.payment_intent, pi.id);
        assert.ok(pi.amount_received <= pi.amount);
      } else {
        assert.equal(pi.amount_received, 0, `${where}: ${pi.status} with amount_received`);
        if (ch) assert.equal(ch.amount_captured, 0, `${where}: ${pi.status} but its charge captured`);
      }
      // at most one charge of an intent captured money
      const captured = b.charges.filter((c) => c.payment_intent === pi.id && c.amount_captured > 0);
      assert.ok(captured.length <= (pi.status === 'succeeded' ? 1 : 0), `${where}: ${captured.length} charges captured`);
    }
    for (const x of W.pools.threeDS.filter((y) => y.ctx === b.ctx)) {
      const pi = b.pis.find((y) => y.id === x.id);
      assert.equal(pi.status, 'requires_action', `${x.id}: a 3-D Secure payment nobody authenticated is ${pi.status}`);
    }
    for (const inv of b.invoices) {
      const where = `${b.ctx.name} ${inv.id}`;
      assert.equal(inv.total, sum(inv.lines.data, (l) => l.amount) , `${where}: total vs lines`);
      if (inv.status === 'paid') {
        assert.equal(inv.amount_paid, inv.amount_due, where);
        if (inv.amount_due > 0) {
          const full = await get(b.ctx, (c, o) => c.invoices.retrieve(inv.id, { expand: ['payments'] }, o));
          const paid = full.payments.data.filter((p) => p.status === 'paid');
          assert.equal(paid.length, 1, `${where}: ${paid.length} paid payments`);
          const pi = b.pis.find((y) => y.id === paid[0].payment.payment_intent);
          assert.ok(pi && pi.status === 'succeeded' && pi.amount_received === inv.amount_paid, `${where}: paid by ${paid[0].payment.payment_intent}`);
        }
      }
    }
  }

  // ---- balances: Σ balance transactions, and what the account's objects imply -------------
  const fees = book.P.fees;
  const transfers = book.P.transfers;
  const totals = { in: 0, stripeFees: 0, refunded: 0, disputed: 0, paidOut: 0, held: 0 };
  for (const b of Object.values(book)) {
    const name = b.ctx.name;
    const btNet = sum(b.bts, (x) => x.net);
    const pick = (rows) => sum(rows.filter((x) => x.currency === 'usd'), (x) => x.amount);
    assert.deepEqual([...new Set(b.bts.map((x) => x.currency))].filter((c) => c !== 'usd'), [], `${name}: balance transactions outside usd`);
    assert.deepEqual([...b.balance.available, ...b.balance.pending].filter((x) => x.currency !== 'usd' && x.amount !== 0), [], `${name}: balance outside usd`);
    const available = pick(b.balance.available);
    const pending = pick(b.balance.pending);
    assert.equal(available + pending, btNet, `${name}: balance ≠ Σ balance transactions`);
    assert.equal(available, sum(b.bts.filter((x) => x.status === 'available'), (x) => x.net), `${name}: available ≠ Σ available balance transactions`);
    assert.equal(pending, sum(b.bts.filter((x) => x.status === 'pending'), (x) => x.net), `${name}: pending ≠ Σ pending balance transactions`);
    const readAt = Math.ceil(Date.now() / 1000) + 1;
    for (const x of b.bts) {
      assert.equal(x.net, x.amount - x.fee, `${name} ${x.id}: net`);
      // available: its funds became available on available_on, which has therefore come
      if (x.status === 'available') assert.ok(x.available_on <= readAt, `${name} ${x.id} (${x.type}) is available, available_on ${x.available_on} is ahead`);
      assert.equal(x.fee, sum(x.fee_details, (f) => f.amount), `${name} ${x.id}: fee_details`);
    }
    // the account's balance from its objects
    const bt = (id, what) => {
      const x = b.btById.get(id);
      assert.ok(x, `${name}: ${what}'s balance transaction ${id} is not listed`);
      return x;
    };
    const captured = b.charges.filter((c) => c.id.startsWith('ch_') && c.captured && c.amount_captured > 0);
    const chargesIn = sum(captured, (c) => bt(c.balance_transaction, c.id).amount);
    const chargeFees = sum(captured, (c) => bt(c.balance_transaction, c.id).fee);
    // a refund of what an authorization released moved no money and has no balance transaction
    const refunded = -sum(b.refunds.filter((x) => live(x) && x.balance_transaction !== null), (x) => bt(x.balance_transaction, x.id).amount);
    const disputed = -sum(b.disputes, (d) => sum(d.balance_transactions, (x) => x.net));
    const disputeFees = sum(b.disputes, (d) => sum(d.balance_transactions, (x) => x.fee));
    for (const d of b.disputes) for (const x of d.balance_transactions) assert.deepEqual(bt(x.id, d.id), x);
    const paidOut = sum(b.payouts.filter((p) => p.status !== 'canceled' && p.status !== 'failed'), (p) => p.amount);
    for (const p of b.payouts) {
      assert.equal(bt(p.balance_transaction, p.id).amount, -p.amount, `${name} ${p.id}: payout balance transaction`);
      if (p.status === 'canceled') assert.equal(bt(p.failure_balance_transaction, p.id).amount, p.amount);
    }
    const sent = b.ctx === P ? sum(transfers, (x) => x.amount - x.amount_reversed) : 0;
    const received = b.ctx.acct ? sum(transfers.filter((x) => x.destination === b.ctx.acct), (x) => x.amount - x.amount_reversed) : 0;
    const feesIn = b.ctx === P ? sum(fees, (f) => f.amount - f.amount_refunded) : 0;
    const feesOut = b.ctx.acct ? sum(fees.filter((f) => f.account === b.ctx.acct), (f) => f.amount - f.amount_refunded) : 0;
    const implied = chargesIn - chargeFees - refunded - disputed - paidOut - sent + received + feesIn - feesOut;
    assert.equal(available + pending, implied,
      `${name}: balance ${available + pending} but its objects imply ${implied} ` +
      `(charges ${chargesIn} − fees ${chargeFees} − refunds ${refunded} − disputes ${disputed} − payouts ${paidOut} − transfers ${sent} + received ${received} + fees ${feesIn} − fees paid ${feesOut})`);
    totals.in += chargesIn;
    totals.stripeFees += chargeFees + disputeFees;
    totals.refunded += refunded;
    totals.disputed += disputed - disputeFees;
    totals.paidOut += paidOut;
    totals.held += available + pending;
  }
  // the whole system: what came in from cards is in balances, or went to fees, payouts, refunds
  // and disputes (transfers and application fees move money between accounts only)
  assert.equal(totals.in, totals.held + totals.stripeFees + totals.paidOut + totals.refunded + totals.disputed,
    `money is not conserved: ${JSON.stringify(totals)}`);

  // ---- Connect: both sides of every transfer, reversal and application fee -----------------
  {
    const side = { [C1.acct]: book.C1, [C2.acct]: book.C2 };
    for (const tr of transfers) {
      const dest = side[tr.destination];
      assert.ok(dest, `${tr.id}: to ${tr.destination}`);
      const pbt = book.P.btById.get(tr.balance_transaction);
      assert.equal(pbt.type, 'transfer');
      assert.equal(pbt.amount, -tr.amount, `${tr.id}: the platform's side`);
      const pay = dest.bts.filter((x) => x.source === tr.destination_payment && x.type === 'payment');
      assert.equal(pay.length, 1, `${tr.id}: ${pay.length} payments on ${dest.ctx.name}`);
      assert.equal(pay[0].amount, tr.amount, `${tr.id}: the platform's transfer balance transaction does not negate the account's payment`);
      const revs = await s(P).c.transfers.listReversals(tr.id, { limit: 100 }).autoPagingToArray({ limit: 1000 });
      for (const rv of revs) collect(W, P, rv);
      assert.equal(sum(revs, (x) => x.amount), tr.amount_reversed, `${tr.id}: reversals vs amount_reversed`);
      assert.equal(tr.reversed, tr.amount_reversed === tr.amount);
      for (const rv of revs) {
        assert.equal(book.P.btById.get(rv.balance_transaction).amount, rv.amount, `${rv.id}: the platform's side`);
        const back = dest.bts.filter((x) => x.source === rv.destination_payment_refund);
        assert.equal(sum(back, (x) => x.amount), -rv.amount, `${rv.id}: the account's side`);
      }
      if (tr.source_transaction) {
        const ch = book.P.charges.find((c) => c.id === tr.source_transaction);
        assert.ok(ch, `${tr.id}: funded by ${tr.source_transaction}`);
      }
    }
    // transfers funded by a charge never exceed what it captured less its refunds
    const bySource = new Map();
    for (const tr of transfers.filter((x) => x.source_transaction)) bySource.set(tr.source_transaction, (bySource.get(tr.source_transaction) || 0) + tr.amount);
    for (const [chId, amt] of bySource) {
      const ch = book.P.charges.find((c) => c.id === chId);
      if (!ch.transfer_data) assert.ok(amt <= ch.amount_captured, `${chId}: transferred ${amt} of ${ch.amount_captured}`);
    }
    // application fees: each one names its charge, and they add up to what the charges took
    const feeCharges = [...book.P.charges.filter((c) => c.application_fee), ...book.C1.charges.filter((c) => c.id.startsWith('ch_') && c.application_fee)];
    assert.equal(sum(fees, (f) => f.amount), sum(feeCharges, (c) => c.application_fee_amount), 'application fees vs the charges that took them');
    assert.equal(fees.length, feeCharges.length);
    for (const f of fees) {
      const frs = await s(P).c.applicationFees.listRefunds(f.id, { limit: 100 }).autoPagingToArray({ limit: 1000 });
      for (const x of frs) collect(W, P, x);
      assert.equal(sum(frs, (x) => x.amount), f.amount_refunded, `${f.id}: refunds vs amount_refunded`);
      assert.ok(f.amount_refunded <= f.amount);
      const acct = side[f.account];
      const paid = acct.bts.filter((x) => (x.type === 'application_fee' && x.source === f.id) || (x.type === 'payment' && x.source === f.charge));
      assert.ok(paid.length >= 1, `${f.id}: ${acct.ctx.name} shows no payment of it`);
    }
    // destination charges: the transfer is what was captured (or transfer_data.amount)
    for (const ch of book.P.charges.filter((c) => c.transfer_data && c.amount_captured > 0)) {
      const tr = transfers.find((x) => x.id === ch.transfer);
      assert.ok(tr, `${ch.id}: its transfer ${ch.transfer}`);
      assert.equal(tr.amount, Math.min(ch.amount_captured, ch.transfer_data.amount || ch.amount_captured), `${ch.id}: transferred`);
    }
  }

  // ---- payouts and transfers never overdrew ----------------------------------------------
  // A payout, or a transfer from the available balance, reads the balance and is refused beyond
  // it; those draws share a counter, so the last of any set of them to commit read the balance
  // after all the others committed, and no later than SLACK seconds after its own created. So,
  // for every draw, the draws made up to it never exceed the credits available by then plus
  // SLACK (debits such as refunds only make the real bound tighter). C2 receives transfers and
  // makes payouts, nothing else: its available balance is never negative.
  {
    const SLACK = 10;
    const fromBalance = new Set(transfers.filter((x) => !x.source_transaction).map((x) => x.id));
    for (const b of Object.values(book)) {
      const draws = b.bts.filter((x) => x.type === 'payout' || (x.type === 'transfer' && fromBalance.has(x.source)));
      const credits = b.bts.filter((x) => x.net > 0);
      for (const d of draws) {
        const drawn = -sum(draws.filter((x) => x.created <= d.created), (x) => x.net);
        const had = sum(credits.filter((x) => x.available_on <= d.created + SLACK), (x) => x.net);
        assert.ok(drawn <= had, `${b.ctx.name}: draws up to ${d.source} took ${drawn} of ${had} available`);
      }
      W.stats.draws = (W.stats.draws || 0) + draws.length;
    }
    const b = book.C2;
    const debits = b.bts.filter((x) => x.amount < 0);
    assert.deepEqual([...new Set(debits.map((x) => x.type))].filter((x) => x !== 'payout'), [], 'C2 has debits other than payouts');
    const avail = sum(b.balance.available.filter((x) => x.currency === 'usd'), (x) => x.amount);
    assert.ok(avail >= 0, `C2's available balance is ${avail}`);
  }

  // ---- tenants: nobody else sees an account's objects -------------------------------------
  const tenantChecks = await tenants(W, { P, M, C1, C2 }, client, opts);
  // nor finds them through a list's filters, or among its events
  for (const [owner, other] of [[book.P, M], [book.C1, P], [book.M, P], [book.M, C1]]) {
    const { c, o } = s(other);
    const some = (xs, n = 5) => xs.slice(0, n);
    const empty = async (what, p) => {
      const got = await p.then((x) => x.data, (e) => (e.statusCode === 404 ? [] : Promise.reject(e)));
      assert.deepEqual(got.map((x) => x.id), [], `${other.name} lists ${owner.ctx.name}'s objects by ${what}`);
    };
    for (const cus of some(owner.customers)) {
      await empty(`customer ${cus.id}`, c.charges.list({ customer: cus.id }, o));
      await empty(`customer ${cus.id}`, c.paymentIntents.list({ customer: cus.id }, o));
      await empty(`customer ${cus.id}`, c.invoices.list({ customer: cus.id }, o));
    }
    for (const ch of some(owner.charges.filter((x) => x.id.startsWith('ch_')))) {
      await empty(`charge ${ch.id}`, c.refunds.list({ charge: ch.id }, o));
      await empty(`charge ${ch.id}`, c.disputes.list({ charge: ch.id }, o));
      await empty(`source ${ch.id}`, c.balanceTransactions.list({ source: ch.id }, o));
      if (ch.payment_intent) await empty(`payment_intent ${ch.payment_intent}`, c.charges.list({ payment_intent: ch.payment_intent }, o));
    }
    const theirs = new Set([...owner.pis, ...owner.charges, ...owner.refunds, ...owner.payouts, ...owner.customers].map((x) => x.id));
    const events = await c.events.list({ limit: 100 }, o);
    for (const e of events.data) assert.ok(!theirs.has(e.data.object.id), `${other.name} sees an event of ${owner.ctx.name}'s ${e.data.object.id}`);
  }

  W.killedGen = W.gen; // stopping it is not a crash
  await W.srv.stop();
  // ---- the store's own invariants, and no card number in clear ----------------------------
  let out;
  try {
    out = tender(['verify', '--data', env.dataDir, '--master-key-file', env.keyFile]);
  } catch (e) {
    out = `${e.stdout}${e.stderr}`;
  }
  assert.match(out, /verify: ok/, out);
  // one file at a time: PostgreSQL's clusters hold every database of the suite
  const needles = PANS.flatMap((n) => [n, n.replace(/(\d{4})/g, '$1 ').trim()]
    .flatMap((form) => [[n, Buffer.from(form)], [n, Buffer.from(form, 'utf16le')]]));
  for (const file of [...storeFiles(env.dataDir), W.srv.logPath]) {
    let data;
    try {
      data = fs.readFileSync(file);
    } catch (e) {
      if (e.code === 'ENOENT') continue; // a temporary file PostgreSQL removed meanwhile
      throw e;
    }
    for (const [n, needle] of needles) assert.ok(!data.includes(needle), `card …${n.slice(-4)} found in clear in ${file}`);
  }
  t.diagnostic(`${totalOps} operations (${JSON.stringify(W.stats.ops)}), ${W.stats.requests} requests, ` +
    `${replays.length} replays, ${W.stats.twice} sent again, ${W.stats.together} sent twice at once, ` +
    `${W.stats.mismatched} keys reused with other parameters, ${W.stats.crossKeys} on another account, ${W.stats.races} races, ${W.stats.overloaded} 503s retried, ${W.stats.draws} payouts and balance transfers; ` +
    `restart: ${restart ? `after ${restartAt} operations${restartLate ? ' and after the last' : ''}, ${W.stats.resent} requests re-sent` : 'none'}; ` +
    `${tenantChecks} tenant checks; ${JSON.stringify(counts)}; money ${JSON.stringify(totals)}`);
}

// ---- helpers --------------------------------------------------------------------------------
// PostgreSQL only (TENDER_INVARIANTS_CHAOS=p): injected serialization failures (helpers' pgChaos).
const CHAOS = Number(process.env.TENDER_INVARIANTS_CHAOS || 0);

// American Express cards take a four-digit security code, the others three.
const rawCard = (number, month, year) => ({ number, exp_month: month, exp_year: year, cvc: number.length === 15 ? '1234' : '123' });

async function pool(n, items, fn) {
  let i = 0;
  await Promise.all(Array.from({ length: n }, async () => {
    while (i < items.length) await fn(items[i++]);
  }));
}

function logTail(W) {
  try {
    return fs.readFileSync(W.srv.logPath, 'utf8').split('\n').slice(-30).join('\n');
  } catch {
    return '(no log)';
  }
}

// Records an object an account's request answered (and the objects in it), as that account's.
function note(W, ctx, o, parent) {
  if (!o || typeof o !== 'object' || typeof o.id !== 'string' || typeof o.object !== 'string') return;
  if (!W.seen.has(o.id)) W.seen.set(o.id, { ctx, object: o.object, parent, raw: o });
}
function collect(W, ctx, body, depth = 0) {
  if (!body || typeof body !== 'object' || depth > 6) return;
  if (Array.isArray(body)) {
    for (const x of body) collect(W, ctx, x, depth + 1);
    return;
  }
  note(W, ctx, body);
  for (const [k, v] of Object.entries(body)) {
    if (k === 'lastResponse') continue;
    if (v && typeof v === 'object') collect(W, ctx, v, depth + 1);
  }
}

// How each kind of object is read back: retrieve(stripe, id, seenEntry, opts).
const RETRIEVE = {
  payment_intent: (s, id, x, o) => s.paymentIntents.retrieve(id, {}, o),
  charge: (s, id, x, o) => s.charges.retrieve(id, {}, o),
  refund: (s, id, x, o) => s.refunds.retrieve(id, {}, o),
  payout: (s, id, x, o) => s.payouts.retrieve(id, {}, o),
  transfer: (s, id, x, o) => s.transfers.retrieve(id, {}, o),
  transfer_reversal: (s, id, x, o) => s.transfers.retrieveReversal(x.raw.transfer, id, {}, o),
  application_fee: (s, id, x, o) => s.applicationFees.retrieve(id, {}, o),
  fee_refund: (s, id, x, o) => s.applicationFees.retrieveRefund(x.raw.fee, id, {}, o),
  balance_transaction: (s, id, x, o) => s.balanceTransactions.retrieve(id, {}, o),
  dispute: (s, id, x, o) => s.disputes.retrieve(id, {}, o),
  customer: (s, id, x, o) => s.customers.retrieve(id, {}, o),
  card: (s, id, x, o) => s.customers.retrieveSource(x.raw.customer, id, {}, o),
  payment_method: (s, id, x, o) => s.paymentMethods.retrieve(id, {}, o),
  subscription: (s, id, x, o) => s.subscriptions.retrieve(id, {}, o),
  invoice: (s, id, x, o) => s.invoices.retrieve(id, {}, o),
  invoiceitem: (s, id, x, o) => s.invoiceItems.retrieve(id, {}, o),
  price: (s, id, x, o) => s.prices.retrieve(id, {}, o),
  product: (s, id, x, o) => s.products.retrieve(id, {}, o),
  'test_helpers.test_clock': (s, id, x, o) => s.testHelpers.testClocks.retrieve(id, {}, o),
  subscription_item: (s, id, x, o) => s.subscriptionItems.retrieve(id, {}, o),
  event: (s, id, x, o) => s.events.retrieve(id, {}, o),
  token: (s, id, x, o) => s.tokens.retrieve(id, {}, o),
  account: (s, id, x, o) => s.accounts.retrieve(id, {}, o),
};

// Every object seen is read by its own account (200), and by everyone else: the other merchant
// (404 resource_missing), the platform without the Stripe-Account header for a connected
// account's object, and the other connected account. Up to 30 objects of each kind per account
// (seeded picks), so the check stays bounded.
async function tenants(W, { P, M, C1, C2 }, client, opts) {
  const groups = new Map();
  for (const [id, x] of W.seen) {
    if (!RETRIEVE[x.object] || x.raw.deleted) continue;
    if (x.object === 'card' && !x.raw.customer) continue; // a token's card, not a customer's
    const g = `${x.ctx.name}:${x.object}`;
    if (!groups.has(g)) groups.set(g, []);
    groups.get(g).push([id, x]);
  }
  const r = rng(SEED ^ 0x5eed);
  const picks = [];
  for (const list of groups.values()) {
    const l = [...list];
    for (let i = 0; i < 30 && l.length; i++) picks.push(l.splice(Math.floor(r.next() * l.length), 1)[0]);
  }
  const strangers = (ctx) => {
    if (ctx === M) return [P, C1];
    if (ctx === P) return [M, { name: 'M as C1', tenant: 'B', acct: C1.acct, invalid: true }];
    return [M, P, ctx === C1 ? C2 : C1];
  };
  let n = 0;
  await pool(8, picks, async ([id, x]) => {
    const read = RETRIEVE[x.object];
    const mine = await read(client(x.ctx.tenant), id, x, opts(x.ctx)).then((v) => v, (e) => e);
    assert.ok(mine && mine.id === id, `${x.ctx.name} cannot read its own ${x.object} ${id}: ${mine && mine.message}`);
    for (const other of strangers(x.ctx)) {
      const e = await read(client(other.tenant), id, x, opts(other)).then(() => null, (err) => err);
      n++;
      assert.ok(e, `${other.name} can read ${x.ctx.name}'s ${x.object} ${id}`);
      if (other.invalid) {
        assert.equal(e.statusCode, 403, `${other.name} reading ${id}: ${e.message}`);
        assert.equal(e.code, 'account_invalid');
      } else {
        assert.equal(e.statusCode, 404, `${other.name} reading ${x.ctx.name}'s ${x.object} ${id}: ${e.statusCode} ${e.message}`);
        assert.equal(e.code, 'resource_missing', `${other.name} reading ${id}: ${e.code}`);
      }
    }
  });
  return n;
}
