'use strict';
// Multi-currency settlement (issue 7): charges presented in one currency and settled in the
// merchant's, at exact rates from a rates file this test writes; refunds at the charge's recorded
// rate even after the rates changed (SIGHUP); minimum amounts; unknown currencies; tender verify.
//
// Every expected number below is worked out by hand from the rule in src/money/fx.h and
// src/ledger/ledger.h: settlement = round_half_away(presentment_minor × rate × 10^e_S / 10^e_P),
// rounded once; fee = round_half_up(settlement × 2.9 %) + 30, on the settlement amount, with
// Stripe's + 1 % for a converted charge (3.9 %) and + 1.5 % for a card (the US test cards) not
// from the merchant's country (a eur merchant's: the EEA); net = amount − fee.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const Stripe = require('stripe');
const {
  tender, newDataDir, createMerchant, startServer, assertStripeShape, stopAll, request,
} = require('./helpers');

// valid_from in the past: these are the rates in force now
const RATES_1 = [
  'base,quote,rate,valid_from',
  'eur,usd,1.0823,2026-01-01',
  'usd,jpy,156.73,2026-01-01', // jpy→usd is its inverse (fx.h rule 2)
  'kwd,usd,3.2531,2026-01-01',
  'usd,eur,0.924,2026-01-01',
  'jpy,eur,0.0059,2026-01-01',
  'kwd,eur,3.0062,2026-01-01',
  '',
].join('\n');
// the second file, loaded by SIGHUP: every rate changed
const RATES_2 = RATES_1.replace('kwd,usd,3.2531', 'kwd,usd,3.3').replace('eur,usd,1.0823', 'eur,usd,1.1');

let dataDir;
let ratesFile;
let srv;
let usdM; // settles in usd
let eurM; // settles in eur
let usd; // stripe clients
let eur;

before(async () => {
  dataDir = newDataDir('tender-fx-');
  const keyFile = path.join(path.dirname(dataDir), `${path.basename(dataDir)}.key`);
  tender(['keygen', keyFile]);
  usdM = createMerchant(dataDir, 'USD merchant');
  eurM = createMerchant(dataDir, 'EUR merchant', ['--settlement-currency', 'EUR']);
  ratesFile = path.join(path.dirname(dataDir), `${path.basename(dataDir)}.rates.csv`);
  fs.writeFileSync(ratesFile, RATES_1);
  srv = await startServer({ dataDir, keyFile, args: ['--rates-file', ratesFile] });
  const client = (m) => new Stripe(m.secret_key, { host: '127.0.0.1', port: srv.port, protocol: 'http', maxNetworkRetries: 0 });
  usd = client(usdM);
  eur = client(eurM);
});
after(stopAll);

async function pay(stripe, amount, currency, pm = 'pm_card_visa') {
  const pi = await stripe.paymentIntents.create({
    amount, currency, payment_method: pm, confirm: true, expand: ['latest_charge.balance_transaction'],
  });
  assert.equal(pi.status, 'succeeded');
  return pi.latest_charge;
}

// refunds carry their balance transaction's id: fetch it
async function withBt(re) {
  return { ...re, balance_transaction: await usd.balanceTransactions.retrieve(re.balance_transaction) };
}

function assertBt(bt, { amount, fee, net, currency, rate }) {
  assert.equal(bt.object, 'balance_transaction');
  assert.equal(bt.amount, amount);
  assert.equal(bt.fee, fee);
  assert.equal(bt.net, net);
  assert.equal(bt.currency, currency);
  assert.equal(bt.exchange_rate, rate);
  if (fee) assert.equal(bt.fee_details[0].currency, currency);
  assertStripeShape(bt, 'balance_transaction');
}

test('a charge in the settlement currency is not converted: exchange_rate null', async () => {
  const ch = await pay(usd, 2000, 'usd');
  // 2000 × 2.9 % = 58, + 30 = 88
  assertBt(ch.balance_transaction, { amount: 2000, fee: 88, net: 1912, currency: 'usd', rate: null });
  const ch2 = await pay(eur, 1000, 'eur');
  // 1000 × 2.9 % = 29, + 30 = 59
  // a US card for a eur merchant is international: 1000 × 4.4 % = 44, + 30 = 74
  assertBt(ch2.balance_transaction, { amount: 1000, fee: 74, net: 926, currency: 'eur', rate: null });
});

test('usd-settled merchant: eur, jpy and kwd charges settle in usd at the file rates', async () => {
  // 19.99 eur × 1.0823 = 21.635177 usd → 2163.5177 cents → 2164 (one rounding, half away)
  // fee: 2164 × 0.039 = 84.396 → 84, + 30 = 114; net 2164 − 114 = 2050
  const e = await pay(usd, 1999, 'eur');
  assert.equal(e.amount, 1999);
  assert.equal(e.currency, 'eur'); // the charge stays in the presentment currency
  assertBt(e.balance_transaction, { amount: 2164, fee: 114, net: 2050, currency: 'usd', rate: 1.0823 });

  // jpy→usd: only usd→jpy 156.73 is given, so its inverse: round(10^24 / 156730000000000) =
  // 6380399413 → 0.006380399413 usd per yen. 5000 yen × 0.006380399413 = 31.901997065 usd →
  // 3190.1997065 cents → 3190; fee 3190 × 0.039 = 124.41 → 124, + 30 = 154; net 3036
  const j = await pay(usd, 5000, 'jpy');
  assertBt(j.balance_transaction, { amount: 3190, fee: 154, net: 3036, currency: 'usd', rate: 0.006380399413 });

  // 12.340 kwd (three decimals) × 3.2531 = 40.143254 usd → 4014.3254 cents → 4014
  // fee 4014 × 0.039 = 156.546 → 157, + 30 = 187; net 3827
  const k = await pay(usd, 12340, 'kwd');
  assertBt(k.balance_transaction, { amount: 4014, fee: 187, net: 3827, currency: 'usd', rate: 3.2531 });

  // the rate is a JSON number on the wire, exactly as recorded
  const raw = await request({ port: srv.port, path: `/v1/balance_transactions/${e.balance_transaction.id}`, key: usdM.secret_key });
  assert.match(raw.body, /"exchange_rate":1\.0823[,}]/);
});

test('exchange rates: the table\'s currencies, each with the rate a payment made now converts at', async () => {
  const list = await usd.exchangeRates.list();
  assert.deepEqual(list.data.map((x) => x.id), ['eur', 'jpy', 'kwd', 'usd']);
  assert.equal(list.has_more, false);
  for (const x of list.data) assertStripeShape(x, 'exchange_rate');
  const byId = Object.fromEntries(list.data.map((x) => [x.id, x.rates]));
  // direct pairs as the file gives them, not inverted: usd→eur is 0.924, eur→usd 1.0823
  assert.equal(byId.eur.usd, 1.0823);
  assert.equal(byId.usd.eur, 0.924);
  assert.equal(byId.usd.jpy, 156.73);
  assert.equal(byId.kwd.usd, 3.2531);
  assert.equal(byId.jpy.eur, 0.0059);
  assert.ok(!('usd' in byId.usd), 'a currency has no rate to itself');
  // the inverse (fx.h rule 2), rounded to 12 decimals: 1 / 156.73 = 0.006380399413003…
  assert.equal(byId.jpy.usd, 0.006380399413);
  // what a payment converts at is what the list says: 1,000 jpy → usd
  const ch = await pay(usd, 1000, 'jpy');
  assert.equal(ch.balance_transaction.exchange_rate, byId.jpy.usd);
  // retrieve (any case), paging by code, unknown codes
  const e = await usd.exchangeRates.retrieve('EUR');
  assert.deepEqual(e.rates, byId.eur);
  const page = await usd.exchangeRates.list({ limit: 2, starting_after: 'eur' });
  assert.deepEqual(page.data.map((x) => x.id), ['jpy', 'kwd']);
  assert.equal(page.has_more, true);
  const back = await usd.exchangeRates.list({ limit: 2, ending_before: 'usd' });
  assert.deepEqual(back.data.map((x) => x.id), ['jpy', 'kwd']);
  assert.equal(back.has_more, true);
  const auto = [];
  for await (const x of usd.exchangeRates.list({ limit: 1 })) auto.push(x.id);
  assert.deepEqual(auto, ['eur', 'jpy', 'kwd', 'usd']);
  await assert.rejects(usd.exchangeRates.retrieve('gbp'), (err) => err.statusCode === 404 && err.code === 'resource_missing');
  await assert.rejects(usd.exchangeRates.retrieve('nope'), (err) => err.statusCode === 404);
  await assert.rejects(usd.exchangeRates.list({ limit: 0 }), (err) => err.statusCode === 400 && err.param === 'limit');
  await assert.rejects(usd.exchangeRates.list({ starting_after: 'gbp' }), (err) => err.statusCode === 404);
});

test('eur-settled merchant: usd, jpy and kwd charges settle in eur', async () => {
  // 20.00 usd × 0.924 = 18.48 eur → 1848; fee (US card, converted) 1848 × 0.054 = 99.792 → 100, + 30 = 130; net 1718
  const u = await pay(eur, 2000, 'usd');
  assertBt(u.balance_transaction, { amount: 1848, fee: 130, net: 1718, currency: 'eur', rate: 0.924 });
  // 5001 yen × 0.0059 = 29.5059 eur → 2950.59 cents → 2951; fee 2951 × 0.054 = 159.354 → 159,
  // + 30 = 189; net 2762
  const j = await pay(eur, 5001, 'jpy');
  assertBt(j.balance_transaction, { amount: 2951, fee: 189, net: 2762, currency: 'eur', rate: 0.0059 });
  // 12.340 kwd × 3.0062 = 37.096508 eur → 3709.6508 → 3710; fee 3710 × 0.054 = 200.34 → 200,
  // + 30 = 230; net 3480
  const k = await pay(eur, 12340, 'kwd');
  assertBt(k.balance_transaction, { amount: 3710, fee: 230, net: 3480, currency: 'eur', rate: 3.0062 });
});

test('the balance holds only settlement-currency funds', async () => {
  const bal = await usd.balance.retrieve();
  assert.deepEqual(bal.pending.map((b) => b.currency), ['usd']);
  assert.deepEqual(bal.available.map((b) => b.currency), ['usd']);
  const bal2 = await eur.balance.retrieve();
  assert.deepEqual(bal2.pending.map((b) => b.currency), ['eur']);
  assertStripeShape(bal, 'balance');
});

test('a full refund of a converted charge returns exactly the charge: the merchant nets −fee', async () => {
  // 19.99 eur → 2164 usd cents, fee 114 (as above)
  const ch = await pay(usd, 1999, 'eur');
  const re = await usd.refunds.create({ charge: ch.id }).then(withBt);
  assert.equal(re.amount, 1999);
  assert.equal(re.currency, 'eur');
  // the refund is converted at the charge's rate: −2164 usd, exactly the charge's amount
  assertBt(re.balance_transaction, { amount: -2164, fee: 0, net: -2164, currency: 'usd', rate: 1.0823 });
  assert.equal(ch.balance_transaction.net + re.balance_transaction.net, -114);
});

async function waitDispute(stripe, pred, what) {
  const end = Date.now() + 20000;
  for (;;) {
    const d = await pred();
    if (d) return d;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

test('disputes of converted charges move settlement money at the charge\'s rate; a won one gives it all back', async () => {
  // usd merchant, 19.99 eur disputed: withdrawn 1999 × 1.0823 = 2163.5177 → 2164 usd cents plus
  // the 15.00 usd fee; won, the same 2164 comes back (same rate, same rounding), the fee stays
  const ch = await pay(usd, 1999, 'eur', 'pm_card_createDispute');
  const d = await waitDispute(usd, async () => (await usd.disputes.list({ charge: ch.id })).data[0], 'the dispute');
  assert.equal(d.amount, 1999);
  assert.equal(d.currency, 'eur');
  await usd.disputes.update(d.id, { evidence: { uncategorized_text: 'winning_evidence' } });
  const won = await waitDispute(usd, async () => {
    const x = await usd.disputes.retrieve(d.id);
    return x.status === 'won' ? x : null;
  }, 'the dispute to be won');
  const [w, r] = won.balance_transactions;
  assertBt(w, { amount: -2164, fee: 1500, net: -3664, currency: 'usd', rate: 1.0823 });
  assertBt(r, { amount: 2164, fee: 0, net: 2164, currency: 'usd', rate: 1.0823 });
  // the charge (net 2164 − 114) plus the dispute (−1500 net) : the merchant keeps 2050 − 1500
  assert.equal(ch.balance_transaction.net + w.net + r.net, 2050 - 1500);

  // eur merchant, 5000 jpy disputed and accepted (closed): 5000 × 0.0059 = 29.50 eur → 2950
  // cents withdrawn plus the 15.00 eur fee, kept
  const cj = await pay(eur, 5000, 'jpy', 'pm_card_createDispute');
  assert.equal(cj.balance_transaction.amount, 2950);
  const dj = await waitDispute(eur, async () => (await eur.disputes.list({ charge: cj.id })).data[0], 'the jpy dispute');
  const closed = await eur.disputes.close(dj.id);
  assert.equal(closed.status, 'lost');
  assert.equal(closed.balance_transactions.length, 1);
  const bt = await eur.balanceTransactions.retrieve(closed.balance_transactions[0].id);
  assertBt(bt, { amount: -2950, fee: 1500, net: -4450, currency: 'eur', rate: 0.0059 });
});

test('refunds use the charge\'s recorded rate after the rates changed (SIGHUP); new charges the new rate', async () => {
  // 12.340 kwd at 3.2531 → 4014 usd cents (as above), fee 187
  const ch = await pay(usd, 12340, 'kwd');
  assert.equal(ch.balance_transaction.amount, 4014);

  fs.writeFileSync(ratesFile, RATES_2);
  const before = fs.readFileSync(srv.logPath, 'utf8').split('exchange rates reloaded').length;
  srv.child.kill('SIGHUP');
  for (let i = 0; i < 100 && fs.readFileSync(srv.logPath, 'utf8').split('exchange rates reloaded').length === before; i++) {
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.ok(fs.readFileSync(srv.logPath, 'utf8').split('exchange rates reloaded').length > before, 'the server logged the reload');

  // a new charge takes the new rate: 12.340 kwd × 3.3 = 40.722 usd → 4072; fee 4072 × 0.039 =
  // 158.808 → 159, + 30 = 189; net 3883
  const ch2 = await pay(usd, 12340, 'kwd');
  assertBt(ch2.balance_transaction, { amount: 4072, fee: 189, net: 3883, currency: 'usd', rate: 3.3 });

  // partial refunds of the first charge still convert at 3.2531, with the cumulative rule
  // (ledger.h): refund 1: 5.000 kwd → round(5000 × 3.2531 / 10) = round(1626.55) = 1627
  const r1 = await usd.refunds.create({ charge: ch.id, amount: 5000 }).then(withBt);
  assertBt(r1.balance_transaction, { amount: -1627, fee: 0, net: -1627, currency: 'usd', rate: 3.2531 });
  // refund 2, the remaining 7.340 kwd: the total refunded, 12.340 kwd, converts to 4014, of
  // which 1627 were returned: 4014 − 1627 = 2387 (converted alone, 7.340 kwd would round to
  // 2388, and the two refunds would return 4015 > 4014)
  const r2 = await usd.refunds.create({ charge: ch.id }).then(withBt);
  assert.equal(r2.amount, 7340);
  assertBt(r2.balance_transaction, { amount: -2387, fee: 0, net: -2387, currency: 'usd', rate: 3.2531 });
  // the charge came back exactly: 4014 − 1627 − 2387 = 0, the merchant nets −187 (the fee)
  assert.equal(ch.balance_transaction.net + r1.balance_transaction.net + r2.balance_transaction.net, -187);

  // eur→usd changed too: 19.99 eur × 1.1 = 21.989 usd → 2199; fee 2199 × 0.039 = 85.761 → 86,
  // + 30 = 116; net 2083
  const ch3 = await pay(usd, 1999, 'eur');
  assertBt(ch3.balance_transaction, { amount: 2199, fee: 116, net: 2083, currency: 'usd', rate: 1.1 });
});

test('a failed refund of a converted charge reverses exactly what the refund booked', async () => {
  const pm = await usd.paymentMethods.create({ type: 'card', card: { number: '4000000000005126', exp_month: 12, exp_year: 2034, cvc: '123' } });
  // 10.00 eur × 1.1 (the reloaded rate) = 11.00 usd → 1100; fee 1100 × 0.039 = 42.9 → 43, + 30 = 73
  const ch = await pay(usd, 1000, 'eur', pm.id);
  assertBt(ch.balance_transaction, { amount: 1100, fee: 73, net: 1027, currency: 'usd', rate: 1.1 });
  const re = await usd.refunds.create({ charge: ch.id, amount: 400 }).then(withBt);
  // 4.00 eur × 1.1 = 4.40 usd → 440
  assertBt(re.balance_transaction, { amount: -440, fee: 0, net: -440, currency: 'usd', rate: 1.1 });
  let failed;
  for (let i = 0; i < 100; i++) {
    failed = await usd.refunds.retrieve(re.id);
    if (failed.status === 'failed') break;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(failed.status, 'failed');
  const fbt = await usd.balanceTransactions.retrieve(failed.failure_balance_transaction);
  assertBt(fbt, { amount: 440, fee: 0, net: 440, currency: 'usd', rate: 1.1 });
});

test('unknown currencies and currencies without a rate are 400', async () => {
  await assert.rejects(usd.paymentIntents.create({ amount: 1000, currency: 'zzz' }),
    (e) => e.statusCode === 400 && e.param === 'currency');
  await assert.rejects(usd.charges.create({ amount: 1000, currency: 'zzz', source: 'tok_visa' }),
    (e) => e.statusCode === 400 && e.param === 'currency');
  await assert.rejects(usd.balanceTransactions.list({ currency: 'zzz' }),
    (e) => e.statusCode === 400 && e.param === 'currency');
  // gbp is a real currency, but the rates file cannot convert it to usd
  await assert.rejects(usd.paymentIntents.create({ amount: 1000, currency: 'gbp', payment_method: 'pm_card_visa', confirm: true }),
    (e) => e.statusCode === 400 && e.param === 'currency' && /exchange rate/.test(e.message));
  // the filter is case-insensitive and finds converted balance transactions by settlement currency
  const list = await usd.balanceTransactions.list({ currency: 'USD', limit: 100 });
  assert.ok(list.data.length > 0 && list.data.every((b) => b.currency === 'usd'));
  assert.equal((await usd.balanceTransactions.list({ currency: 'kwd' })).data.length, 0);
});

test('amount_too_small: documented minimums, and the settlement minimum converted', async () => {
  await assert.rejects(usd.paymentIntents.create({ amount: 49, currency: 'usd' }),
    (e) => e.statusCode === 400 && e.code === 'amount_too_small');
  await assert.rejects(usd.paymentIntents.create({ amount: 49, currency: 'jpy' }),
    (e) => e.statusCode === 400 && e.code === 'amount_too_small');
  // kwd has no documented minimum: 0.100 kwd × 3.3 = 0.33 usd → 33 cents < 50
  await assert.rejects(usd.paymentIntents.create({ amount: 100, currency: 'kwd' }),
    (e) => e.statusCode === 400 && e.code === 'amount_too_small' && e.param === 'amount' && /convert/.test(e.message));
  await assert.rejects(usd.charges.create({ amount: 100, currency: 'kwd', source: 'tok_visa' }),
    (e) => e.statusCode === 400 && e.code === 'amount_too_small');
  // 0.160 kwd × 3.3 = 0.528 usd → 53 cents ≥ 50: accepted
  const pi = await usd.paymentIntents.create({ amount: 160, currency: 'kwd' });
  assert.equal(pi.status, 'requires_payment_method');
  // for the eur merchant the eur minimum applies: 0.160 kwd × 3.0062 = 0.481 eur → 48 < 50
  await assert.rejects(eur.paymentIntents.create({ amount: 160, currency: 'kwd' }),
    (e) => e.statusCode === 400 && e.code === 'amount_too_small');
  // confirm checks again: an intent updated below the minimum cannot be confirmed
  await assert.rejects(usd.paymentIntents.update(pi.id, { amount: 100 }),
    (e) => e.statusCode === 400 && e.code === 'amount_too_small');
});

test('a bad rates file on SIGHUP keeps the old rates', async () => {
  fs.writeFileSync(ratesFile, 'base,quote,rate,valid_from\neur,usd,not-a-rate,2026-01-01\n');
  const before = fs.readFileSync(srv.logPath, 'utf8').split('not reloaded').length;
  srv.child.kill('SIGHUP');
  for (let i = 0; i < 100 && fs.readFileSync(srv.logPath, 'utf8').split('not reloaded').length === before; i++) {
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.ok(fs.readFileSync(srv.logPath, 'utf8').split('not reloaded').length > before);
  // still RATES_2: 19.99 eur × 1.1 → 2199
  const ch = await pay(usd, 1999, 'eur');
  assert.equal(ch.balance_transaction.amount, 2199);
  assert.equal(ch.balance_transaction.exchange_rate, 1.1);
});

test('a rates file that does not load stops the server at start', async () => {
  const bad = path.join(path.dirname(dataDir), `${path.basename(dataDir)}.bad.csv`);
  fs.writeFileSync(bad, 'eur,usd,1.0823\n');
  const dir = newDataDir('tender-fx-bad-');
  const key = path.join(path.dirname(dir), `${path.basename(dir)}.key`);
  tender(['keygen', key]);
  await assert.rejects(startServer({ dataDir: dir, keyFile: key, args: ['--rates-file', bad] }),
    /exited with 1/);
});

test('tender verify: ok, and it shows what the fx account absorbed', async () => {
  const out = tender(['verify', '--data', dataDir]);
  assert.match(out, /verify: ok/);
  assert.match(out, new RegExp(`fx absorbs: ${usdM.id}: .*usd [+-]?\\d+`));
  assert.match(out, new RegExp(`fx absorbs: ${eurM.id}: .*eur [+-]?\\d+`));
});
