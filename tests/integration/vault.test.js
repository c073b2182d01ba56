'use strict';
// The vault: PaymentMethods and tokens through stripe-node, validation as Stripe answers it,
// fingerprints, tampering, and no card number in clear anywhere on disk or in the log.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const Stripe = require('stripe');
const { startTender, startServer, assertStripeShape, stopAll, tender, storeSql, readStoreFiles, withDatabaseUrls } = require('./helpers');

let env;
let stripe;
const NUMBERS = ['4242424242424242', '5555555555554444', '378282246310005', '4000000000000002', '6011111111111117', '4000002760003184'];

before(async () => {
  env = await startTender({ merchants: 2 });
  stripe = env.stripe();
});
after(stopAll);

const card = (number, extra = {}) => ({ type: 'card', card: { number, exp_month: 12, exp_year: 2034, cvc: '123', ...extra } });

test('payment methods: create, retrieve, update, attach, detach, list', async () => {
  const pm = await stripe.paymentMethods.create({ ...card('4242 4242 4242 4242'), billing_details: { name: 'Jenny Rosen', address: { country: 'US' } }, metadata: { a: '1' } });
  assert.match(pm.id, /^pm_/);
  assert.equal(pm.card.brand, 'visa');
  assert.equal(pm.card.last4, '4242');
  assert.equal(pm.card.exp_year, 2034);
  assert.equal(pm.card.funding, 'credit');
  assert.equal(pm.card.country, 'US');
  assert.match(pm.card.fingerprint, /^[0-9A-Za-z]{16}$/);
  assert.equal(pm.billing_details.name, 'Jenny Rosen');
  assert.ok(!JSON.stringify(pm).includes('4242424242424242'));
  assertStripeShape(pm, 'payment_method');
  const again = await stripe.paymentMethods.retrieve(pm.id);
  assert.deepEqual(again, pm);
  const up = await stripe.paymentMethods.update(pm.id, { metadata: { b: '2' }, card: { exp_month: 6 } });
  assert.deepEqual(up.metadata, { a: '1', b: '2' });
  assert.equal(up.card.exp_month, 6);
  const cus = await stripe.customers.create({ email: 'pm@example.com' });
  const att = await stripe.paymentMethods.attach(pm.id, { customer: cus.id });
  assert.equal(att.customer, cus.id);
  const list = await stripe.paymentMethods.list({ customer: cus.id, type: 'card' });
  assert.deepEqual(list.data.map((p) => p.id), [pm.id]);
  const det = await stripe.paymentMethods.detach(pm.id);
  assert.equal(det.customer, null);
  await assert.rejects(stripe.paymentMethods.detach(pm.id), (e) => e.statusCode === 400);
});

test('allow_redisplay: kept on create and update (also as payment_method_data[allow_redisplay]), `limited` when setup_future_usage saves it, a customer\'s list filtered by it; Stripe\'s enum', async () => {
  const cus = await stripe.customers.create({ email: 'redisplay@example.com' });
  const plain = await stripe.paymentMethods.create(card('4242424242424242'));
  assert.equal(plain.allow_redisplay, 'unspecified', 'Stripe\'s default');
  const always = await stripe.paymentMethods.create({ ...card('5555555555554444'), allow_redisplay: 'always' });
  assert.equal(always.allow_redisplay, 'always');
  assertStripeShape(always, 'payment_method');
  assert.deepEqual(await stripe.paymentMethods.retrieve(always.id), always);
  const up = await stripe.paymentMethods.update(plain.id, { allow_redisplay: 'limited', metadata: { k: 'v' } });
  assert.deepEqual([up.allow_redisplay, up.metadata.k], ['limited', 'v']);
  const ev = (await stripe.events.list({ type: 'payment_method.updated', limit: 1 })).data[0];
  assert.deepEqual([ev.data.object.id, ev.data.object.allow_redisplay], [plain.id, 'limited']);
  // saved by a PaymentIntent's setup_future_usage: limited, unless chosen (payment_method_data)
  const saved = await stripe.paymentIntents.create({ amount: 1000, currency: 'usd', customer: cus.id, payment_method: 'pm_card_visa', setup_future_usage: 'off_session', confirm: true });
  assert.equal(saved.status, 'succeeded');
  assert.equal((await stripe.paymentMethods.retrieve(saved.payment_method)).allow_redisplay, 'limited');
  const attached = (await stripe.events.list({ type: 'payment_method.attached', limit: 1 })).data[0];
  assert.deepEqual([attached.data.object.id, attached.data.object.allow_redisplay], [saved.payment_method, 'limited']);
  const chosen = await stripe.paymentIntents.create({
    amount: 1000, currency: 'usd', customer: cus.id, setup_future_usage: 'off_session', confirm: true,
    payment_method_data: { type: 'card', card: { token: 'tok_visa' }, allow_redisplay: 'always' },
  });
  assert.equal((await stripe.paymentMethods.retrieve(chosen.payment_method)).allow_redisplay, 'always');
  // a SetupIntent saves it for later too
  const si = await stripe.setupIntents.create({ customer: cus.id, payment_method: 'pm_card_mastercard', confirm: true });
  assert.equal(si.status, 'succeeded');
  assert.equal((await stripe.paymentMethods.retrieve(si.payment_method)).allow_redisplay, 'limited');
  await stripe.paymentMethods.attach(always.id, { customer: cus.id });
  const ids = async (params) => (await stripe.customers.listPaymentMethods(cus.id, params)).data.map((p) => p.id).sort();
  assert.deepEqual(await ids({ allow_redisplay: 'always' }), [always.id, chosen.payment_method].sort());
  assert.deepEqual(await ids({ allow_redisplay: 'limited' }), [saved.payment_method, si.payment_method].sort());
  assert.deepEqual(await ids({ allow_redisplay: 'unspecified' }), []);
  assert.equal((await ids({})).length, 4);
  assert.deepEqual((await stripe.paymentMethods.list({ customer: cus.id, allow_redisplay: 'always' })).data.map((p) => p.id).sort(),
    [always.id, chosen.payment_method].sort());
  const refuse = (p, param) => assert.rejects(p, (e) => e.statusCode === 400 && e.raw.param === param);
  await refuse(stripe.paymentMethods.create({ ...card('4242424242424242'), allow_redisplay: 'sometimes' }), 'allow_redisplay');
  await refuse(stripe.paymentMethods.update(always.id, { allow_redisplay: 'never' }), 'allow_redisplay');
  await refuse(stripe.customers.listPaymentMethods(cus.id, { allow_redisplay: 'x' }), 'allow_redisplay');
  await refuse(stripe.paymentMethods.list({ allow_redisplay: 'always' }), 'allow_redisplay');
  assert.equal((await stripe.paymentMethods.retrieve(always.id)).allow_redisplay, 'always');
});

test('brands, fingerprints per merchant', async () => {
  const brands = { '5555555555554444': 'mastercard', '2223003122003222': 'mastercard', '378282246310005': 'amex', '6011111111111117': 'discover', '3056930009020004': 'diners', '3566002020360505': 'jcb', '6200000000000005': 'unionpay' };
  for (const [n, b] of Object.entries(brands)) {
    const pm = await stripe.paymentMethods.create(card(n, { cvc: b === 'amex' ? '1234' : '123' }));
    assert.equal(pm.card.brand, b, n.slice(-4));
  }
  // some American Express cards print a three-digit CVC: Stripe's API takes it
  const amex3 = await stripe.paymentMethods.create(card('378282246310005', { cvc: '123' }));
  assert.equal(amex3.card.brand, 'amex');
  assert.equal(amex3.card.checks.cvc_check, 'unchecked');
  const a = await stripe.paymentMethods.create(card('4242424242424242'));
  const b = await stripe.paymentMethods.create(card('4242-4242-4242-4242'));
  const other = await env.stripe(env.merchants[1].secret_key).paymentMethods.create(card('4242424242424242'));
  assert.equal(a.card.fingerprint, b.card.fingerprint);
  assert.notEqual(a.card.fingerprint, other.card.fingerprint);
  await assert.rejects(env.stripe(env.merchants[1].secret_key).paymentMethods.retrieve(a.id), (e) => e.statusCode === 404);
});

test('validation answers like Stripe (402 card_error) and never echoes the number', async () => {
  const cases = [
    [card('4242424242424241'), 'incorrect_number'],
    [card('4242 4242 4242 424x'), 'invalid_number'],
    [card(''), null],
    [card('0'.repeat(40)), 'invalid_number'],
    [card('４２４２４２４２４２４２４２４２'), 'invalid_number'],
    [card('4242424242424242', { exp_month: 13 }), 'invalid_expiry_month'],
    [card('4242424242424242', { exp_year: 2001 }), 'invalid_expiry_year'],
    [card('4242424242424242', { cvc: '12' }), 'invalid_cvc'],
    [card('378282246310005', { cvc: '12345' }), 'invalid_cvc'],
    [card('378282246310005', { cvc: '12' }), 'invalid_cvc'],
  ];
  for (const [params, code] of cases) {
    const err = await stripe.paymentMethods.create(params).then(() => null, (e) => e);
    assert.ok(err, `${JSON.stringify(params.card.exp_month)} should fail`);
    if (code) {
      assert.equal(err.type, 'StripeCardError', code);
      assert.equal(err.statusCode, 402);
      assert.equal(err.code, code);
    } else {
      assert.equal(err.statusCode, 400);
    }
    assert.ok(!JSON.stringify(err.raw).includes('4242424242424241'));
  }
  const dup = await env.request({ method: 'POST', path: '/v1/payment_methods', key: env.merchant.secret_key, body: 'type=card&card[number]=4242424242424242&card[number]=4000000000000002&card[exp_month]=1&card[exp_year]=2034' });
  assert.equal(dup.status, 400);
  assert.ok(!dup.body.includes('4242424242424242') && !dup.body.includes('4000000000000002'));
  const bad = await env.request({ method: 'POST', path: '/v1/payment_methods', key: env.merchant.secret_key, body: 'type=card&card[numbr]=4242424242424242' });
  assert.equal(bad.status, 400);
  assert.ok(!bad.body.includes('4242424242424242'));
});

test('tokens: publishable keys create them, single use, aliases', async () => {
  const pk = env.stripe(env.merchant.publishable_key);
  const tok = await pk.tokens.create({ card: { number: '5555555555554444', exp_month: 3, exp_year: 2033, cvc: '999' } });
  assert.match(tok.id, /^tok_/);
  assert.equal(tok.card.last4, '4444');
  assert.equal(tok.used, false);
  assertStripeShape(tok, 'token');
  assert.deepEqual(await stripe.tokens.retrieve(tok.id), tok, 'the answer to create is the stored token');
  const pm = await pk.paymentMethods.create(card('4242424242424242'));
  assert.match(pm.id, /^pm_/);
  await assert.rejects(pk.paymentMethods.retrieve(pm.id), (e) => e.statusCode === 403);
  const ch = await stripe.charges.create({ amount: 500, currency: 'usd', source: tok.id });
  assert.equal(ch.payment_method_details.card.last4, '4444');
  assert.equal((await stripe.tokens.retrieve(tok.id)).used, true);
  await assert.rejects(stripe.charges.create({ amount: 500, currency: 'usd', source: tok.id }), (e) => e.statusCode === 400);
  for (const alias of ['pm_card_visa', 'pm_card_mastercard', 'pm_card_amex', 'pm_card_visa_debit']) {
    const pi = await stripe.paymentIntents.create({ amount: 1000, currency: 'usd', payment_method: alias, confirm: true });
    assert.equal(pi.status, 'succeeded', alias);
  }
});

test('cvc_update tokens: a CVC recollected for a saved card, used once by a confirmation (cvc_check pass); the CVC kept nowhere', async () => {
  const CVC = '9817';
  const tok = await stripe.tokens.create({ cvc_update: { cvc: CVC } }, { idempotencyKey: `cvc-${Date.now()}` });
  assert.match(tok.id, /^cvctok_/);
  assert.equal(tok.object, 'token');
  assert.equal(tok.type, 'cvc_update');
  assert.equal(tok.used, false);
  assertStripeShape(tok, 'token');
  assert.ok(!JSON.stringify(tok).includes(CVC));
  const again = await stripe.tokens.retrieve(tok.id);
  assert.deepEqual(again, tok);
  for (const bad of ['12', '12345', '12a']) {
    await assert.rejects(stripe.tokens.create({ cvc_update: { cvc: bad } }),
      // (the message and param never echo it; the whole raw error holds a random request id)
      (e) => e.statusCode === 402 && e.code === 'invalid_cvc' && e.param === 'cvc_update[cvc]' && !e.message.includes(bad));
  }
  await assert.rejects(stripe.tokens.create({ cvc_update: {} }), (e) => e.statusCode === 400 && e.code === 'parameter_missing');

  // a card saved without its CVC: no check on an ordinary payment, `pass` with the token
  const cus = await stripe.customers.create({ name: 'CVC' });
  const pm = await stripe.paymentMethods.create({ type: 'card', card: { number: '4242424242424242', exp_month: 12, exp_year: 2034 } });
  await stripe.paymentMethods.attach(pm.id, { customer: cus.id });
  const plain = await stripe.paymentIntents.create({ amount: 1000, currency: 'usd', customer: cus.id, payment_method: pm.id, confirm: true });
  assert.equal((await stripe.charges.retrieve(plain.latest_charge)).payment_method_details.card.checks.cvc_check, null);
  const pi = await stripe.paymentIntents.create({ amount: 1100, currency: 'usd', customer: cus.id, payment_method: pm.id });
  const done = await stripe.paymentIntents.confirm(pi.id, { payment_method_options: { card: { cvc_token: tok.id } }, expand: ['latest_charge'] });
  assert.equal(done.status, 'succeeded');
  assert.equal(done.latest_charge.payment_method_details.card.checks.cvc_check, 'pass');
  assertStripeShape(done.latest_charge, 'charge');
  assert.equal((await stripe.tokens.retrieve(tok.id)).used, true);

  // used, unknown, another merchant's, on create or update: Stripe's errors, nothing charged
  const pi2 = await stripe.paymentIntents.create({ amount: 1200, currency: 'usd', customer: cus.id, payment_method: pm.id });
  await assert.rejects(stripe.paymentIntents.confirm(pi2.id, { payment_method_options: { card: { cvc_token: tok.id } } }),
    (e) => e.statusCode === 400 && e.code === 'token_already_used' && e.param === 'payment_method_options[card][cvc_token]');
  await assert.rejects(stripe.paymentIntents.confirm(pi2.id, { payment_method_options: { card: { cvc_token: 'cvctok_nope' } } }),
    (e) => e.statusCode === 404 && e.code === 'resource_missing' && e.param === 'payment_method_options[card][cvc_token]');
  const other = env.stripe(env.merchants[1].secret_key);
  const foreign = await other.tokens.create({ cvc_update: { cvc: '123' } });
  await assert.rejects(stripe.paymentIntents.confirm(pi2.id, { payment_method_options: { card: { cvc_token: foreign.id } } }),
    (e) => e.statusCode === 404 && e.code === 'resource_missing');
  await assert.rejects(stripe.paymentIntents.create({ amount: 1200, currency: 'usd', payment_method: pm.id, confirm: true, payment_method_options: { card: { cvc_token: foreign.id } } }),
    (e) => e.statusCode === 400 && e.code === 'parameter_unknown');
  assert.equal((await stripe.paymentIntents.retrieve(pi2.id)).status, 'requires_confirmation');
  assert.equal((await other.tokens.retrieve(foreign.id)).used, false);

  // the CVC is in no table and not in the log
  assert.ok(!storeSql(env.dataDir, `SELECT * FROM cvc_tokens WHERE id = '${tok.id}'`).join('').includes(CVC));
  assert.ok(!fs.readFileSync(env.server.logPath, 'utf8').includes(`"${CVC}"`));
});

test('a tampered ciphertext is refused with processing_error and decrypts nothing', async () => {
  const s2 = env.stripe(env.merchants[1].secret_key);
  const pm = await s2.paymentMethods.create(card('4242424242424242'));
  // change a byte of that card's sealed number, as an attacker with write access to the file
  // would (to 00, or to 01 where it was 00: the byte is random)
  const pg = require('./helpers').PG_SHARD_URLS.length > 0;
  storeSql(env.dataDir, pg
    ? `UPDATE vault_cards SET sealed = set_byte(sealed, 20, CASE WHEN get_byte(sealed, 20) = 0 THEN 1 ELSE 0 END) WHERE id = (SELECT card_id FROM payment_methods WHERE id = '${pm.id}')`
    : `UPDATE vault_cards SET sealed = substr(sealed, 1, 20) || CASE WHEN substr(sealed, 21, 1) = X'00' THEN X'01' ELSE X'00' END || substr(sealed, 22) WHERE id = (SELECT card_id FROM payment_methods WHERE id = '${pm.id}')`);
  const err = await s2.paymentIntents.create({ amount: 1000, currency: 'usd', payment_method: pm.id, confirm: true }).then(() => null, (e) => e);
  assert.ok(err);
  assert.equal(err.statusCode, 402);
  assert.equal(err.code, 'processing_error');
  const log = fs.readFileSync(env.server.logPath, 'utf8');
  assert.match(log, /"level":"alert"/);
  // a bank account's sealed IBAN damaged the same way (nothing reads it back; verify finds it)
  const sepa = await s2.paymentMethods.create({ type: 'sepa_debit', sepa_debit: { iban: 'DE89370400440532013000' }, billing_details: { name: 'Jenny Rosen', email: 'jenny@example.com' } });
  storeSql(env.dataDir, pg
    ? `UPDATE vault_ibans SET sealed = set_byte(sealed, 20, CASE WHEN get_byte(sealed, 20) = 0 THEN 1 ELSE 0 END) WHERE id = (SELECT card_id FROM payment_methods WHERE id = '${sepa.id}')`
    : `UPDATE vault_ibans SET sealed = substr(sealed, 1, 20) || CASE WHEN substr(sealed, 21, 1) = X'00' THEN X'01' ELSE X'00' END || substr(sealed, 22) WHERE id = (SELECT card_id FROM payment_methods WHERE id = '${sepa.id}')`);
});

test('no card number in clear on disk or in the log', async () => {
  // exercise every path a number travels: payment methods, tokens, payments, errors
  for (const n of NUMBERS) {
    await stripe.paymentMethods.create(card(n)).catch(() => {});
    await stripe.tokens.create({ card: { number: n, exp_month: 1, exp_year: 2035 } }).catch(() => {});
    await stripe.paymentIntents.create({
      amount: 1000, currency: 'usd', confirm: true,
      payment_method_data: { type: 'card', card: { number: n, exp_month: 12, exp_year: 2034, cvc: '123' } },
    }).catch(() => {});
  }
  await env.request({ method: 'POST', path: '/v1/payment_methods', key: env.merchant.secret_key, body: 'type=card&card[number]=4242424242424242&card[exp_month]=99&card[exp_year]=2034' });
  await env.request({ method: 'POST', path: '/v1/payment_methods', key: env.merchant.secret_key, body: 'type=card&card[number]=4242424242424242&card[number]=1' });
  await env.request({ method: 'GET', path: '/v1/customers/4242424242424242', key: env.merchant.secret_key });
  // the control: what the API stores in clear (an email) is found by the same scan, in the
  // database and, on PostgreSQL, in a WAL segment (the scan reads the segments written meanwhile)
  const control = `scan-control-${Date.now()}@example.com`;
  await stripe.customers.create({ email: control });
  await env.server.stop();
  const stored = readStoreFiles(env.dataDir);
  const files = [...stored.map((x) => x.file), env.server.logPath];
  const hay = [...stored.map((x) => x.data), fs.readFileSync(env.server.logPath)];
  assert.ok(stored.some(({ data }) => data.includes(control)), 'the scan does not see what the store holds');
  if (require('./helpers').PG_SHARD_URLS.length > 0) {
    assert.ok(stored.some(({ file, data }) => file.includes(`${path.sep}pg_wal${path.sep}`) && data.includes(control)), 'the scan reads no WAL');
  }
  for (const n of NUMBERS) {
    for (const form of [n, n.replace(/(\d{4})/g, '$1 ').trim()]) {
      for (let i = 0; i < hay.length; i++) {
        assert.ok(!hay[i].includes(form), `${form.slice(-4)} found in clear in ${files[i]}`);
        assert.ok(!hay[i].includes(Buffer.from(form, 'utf16le')), `utf16 ${form.slice(-4)} in ${files[i]}`);
      }
    }
  }
  const out = tender(['verify', '--data', env.dataDir]);
  assert.match(out, /verify: ok/);
  // with the key, verify opens every sealed row: the card and the IBAN tampered with above are
  // reported, nothing else
  const withKey = require('node:child_process').spawnSync(require('./helpers').BIN,
    withDatabaseUrls(['verify', '--data', env.dataDir, '--master-key-file', env.keyFile]), { encoding: 'utf8' });
  assert.equal(withKey.status, 1);
  assert.match(withKey.stdout, /card \S+ \/ \S+ does not decrypt and authenticate/);
  assert.match(withKey.stdout, /bank account \S+ \/ \S+ does not decrypt and authenticate/);
  assert.equal(withKey.stdout.match(/FAIL vault/g).length, 2);
  // the server refuses another master key for this store, and accepts its own
  const srv = await startServer({ dataDir: env.dataDir, keyFile: env.keyFile });
  await srv.stop();
});

test('master key rotation through the CLI keeps old cards working', async () => {
  const e2 = await startTender();
  const s = e2.stripe();
  const pm = await s.paymentMethods.create(card('4242424242424242'));
  await e2.stop();
  const newKey = `${e2.keyFile}.new`;
  tender(['keygen', newKey]);
  const out = tender(['keys', 'rotate', '--data', e2.dataDir, '--master-key-file', e2.keyFile, '--new-master-key-file', newKey]);
  // one data key per store: the SQLite file, or each PostgreSQL shard
  const shards = Math.max(1, require('./helpers').PG_SHARD_URLS.length);
  assert.match(out, new RegExp(`re-wrapped ${shards} data key`));
  const status = tender(['keys', 'status', '--data', e2.dataDir, '--master-key-file', newKey]);
  assert.match(status, /matches the key file/);
  assert.match(status, /1 card/);
  // the old key no longer opens the store; the new one does, and the old card still pays
  const old = require('node:child_process').spawnSync(require('./helpers').BIN,
    withDatabaseUrls(['serve', '--listen', '127.0.0.1:0', '--data', e2.dataDir, '--master-key-file', e2.keyFile]), { encoding: 'utf8', timeout: 10000 });
  assert.notEqual(old.status, 0);
  const srv = await startServer({ dataDir: e2.dataDir, keyFile: newKey });
  const s2 = new Stripe(e2.merchant.secret_key, { host: '127.0.0.1', port: srv.port, protocol: 'http' });
  const pi = await s2.paymentIntents.create({ amount: 1000, currency: 'usd', payment_method: pm.id, confirm: true });
  assert.equal(pi.status, 'succeeded');
  assert.match(tender(['verify', '--data', e2.dataDir, '--master-key-file', newKey]), /verify: ok/);
  // every decryption left an access record
  const n = storeSql(e2.dataDir, 'SELECT COUNT(*) FROM vault_access_log').reduce((a, o) => a + Number(o.trim()), 0);
  assert.ok(Number(n) >= 1);
  await srv.stop();
});

test('a rotation that PostgreSQL runs again after a serialization failure reports what it did once',
  { skip: require('./helpers').PG_SHARD_URLS.length === 0 && 'PostgreSQL only: a shard\'s rotation fails mid-way and runs again' }, async () => {
  const e3 = await startTender();
  await e3.stop();
  // the first data key re-wrapped fails with a serialization failure (as a conflict would):
  // that shard's transaction runs again, and its keys must be counted once
  storeSql(e3.dataDir, `CREATE SEQUENCE rotate_conflict;
    CREATE FUNCTION rotate_conflict() RETURNS trigger AS $$ BEGIN
      IF nextval('rotate_conflict') = 1 THEN RAISE EXCEPTION 'conflict' USING ERRCODE = '40001'; END IF;
      RETURN NEW; END $$ LANGUAGE plpgsql;
    CREATE TRIGGER rotate_conflict BEFORE UPDATE ON vault_data_keys FOR EACH ROW EXECUTE FUNCTION rotate_conflict();`);
  const newKey = `${e3.keyFile}.new`;
  tender(['keygen', newKey]);
  const out = tender(['keys', 'rotate', '--data', e3.dataDir, '--master-key-file', e3.keyFile, '--new-master-key-file', newKey]);
  const shards = require('./helpers').PG_SHARD_URLS.length;
  assert.match(out, new RegExp(`re-wrapped ${shards} data key\\(s\\) and \\d+ fingerprint key\\(s\\) on ${shards} shard\\(s\\)`));
  assert.ok(storeSql(e3.dataDir, 'SELECT last_value FROM rotate_conflict').some((x) => Number(x) > 1), 'the failure happened');
  assert.match(tender(['keys', 'status', '--data', e3.dataDir, '--master-key-file', newKey]), /matches the key file/);
});
