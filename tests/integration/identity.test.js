'use strict';
// Stripe Identity: verification sessions and reports through stripe-node, and the hosted test
// page a session's url opens, driven in headless Chromium (Debian's chromium + playwright-core).
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const { BIN, startTender, stopAll, assertStripeShape, launchChromium, startShop, eventTypesOf, storeSql, readStoreFiles, withDatabaseUrls } = require('./helpers');

let env;
let stripe;
let other; // the second merchant's client
let browser;
let shop;
let shopUrl;

// the id numbers typed on the page: never stored in clear
const SSN_DOC = '987-65-4320';
const SSN_IDN = '912 34 5671';
const CLEAR = ['987654320', '987-65-4320', '912345671', '912 34 5671'];

before(async () => {
  env = await startTender({ merchants: 2 });
  stripe = env.stripe();
  other = env.stripe(env.merchants[1].secret_key);
  shop = await startShop();
  shopUrl = `http://127.0.0.1:${shop.address().port}/identity-done`;
  browser = await launchChromium();
});
after(async () => {
  if (browser) await browser.close();
  if (shop) shop.close();
  await stopAll();
});

// Opens session vs's url in the browser, types idNumber when given, and picks outcome. Resolves
// with the page (on the shop, or on Tender's page when there is no return_url).
async function submitOnPage(vs, outcome, idNumber) {
  const page = await browser.newPage();
  const res = await page.goto(vs.url);
  assert.equal(res.status(), 200);
  assert.match(await page.textContent('#test-mode'), /Test mode/);
  if (idNumber !== undefined) await page.fill('#id_number', idNumber);
  await Promise.all([page.waitForNavigation(), page.click(`#outcome-${outcome}`)]);
  return page;
}

let verifiedId; // the verified document session (redacted in a later test)

let customerId;

test('a document session verified on the hosted page: report, verified outputs, expand, events', async () => {
  customerId = (await stripe.customers.create({ email: 'jenny@example.com' })).id;
  const vs = await stripe.identity.verificationSessions.create({
    related_customer: customerId,
    type: 'document',
    options: { document: { allowed_types: ['passport', 'driving_license'], require_id_number: true, require_matching_selfie: true } },
    metadata: { user: 'u1' },
    return_url: shopUrl,
    client_reference_id: 'user_1',
    provided_details: { email: 'jenny@example.com' },
  });
  assertStripeShape(vs, 'identity.verification_session');
  assert.match(vs.id, /^vs_/);
  assert.equal(vs.status, 'requires_input');
  assert.equal(vs.type, 'document');
  assert.deepEqual(vs.options, { document: { allowed_types: ['passport', 'driving_license'], require_id_number: true, require_matching_selfie: true } });
  assert.deepEqual(vs.provided_details, { email: 'jenny@example.com' });
  assert.equal(vs.client_reference_id, 'user_1');
  assert.equal(vs.related_customer, customerId);
  assert.match(vs.client_secret, new RegExp(`^${vs.id}_secret_`));
  assert.match(vs.url, new RegExp(`^http://127\\.0\\.0\\.1:${env.port}/verify/`));
  assert.equal(vs.verified_outputs, null);
  assert.equal(vs.last_verification_report, null);

  const page = await submitOnPage(vs, 'verified', SSN_DOC);
  assert.equal(new URL(page.url()).pathname, '/identity-done');
  await page.close();
  // the link worked once
  const again = await env.request({ path: new URL(vs.url).pathname });
  assert.equal(again.status, 404);

  const done = await stripe.identity.verificationSessions.retrieve(vs.id);
  assertStripeShape(done, 'identity.verification_session');
  assert.equal(done.status, 'verified');
  assert.equal(done.url, null);
  assert.equal(done.client_secret, null);
  assert.equal(done.last_error, null);
  assert.match(done.last_verification_report, /^vr_/);
  assert.equal(done.verified_outputs.first_name, 'Jenny');
  assert.equal(done.verified_outputs.last_name, 'Rosen');
  assert.equal(done.verified_outputs.address.city, 'San Francisco');
  assert.equal(done.verified_outputs.id_number_type, 'us_ssn');
  // the sensitive outputs only when expanded
  assert.equal(done.verified_outputs.dob, null);
  assert.equal(done.verified_outputs.id_number, null);
  const exp = await stripe.identity.verificationSessions.retrieve(vs.id, {
    expand: ['verified_outputs.dob', 'verified_outputs.id_number', 'last_verification_report'],
  });
  assert.deepEqual(exp.verified_outputs.dob, { day: 1, month: 1, year: 1901 });
  assert.equal(exp.verified_outputs.id_number, '987654320');
  assert.equal(exp.last_verification_report.id, done.last_verification_report);

  const vr = await stripe.identity.verificationReports.retrieve(done.last_verification_report);
  assertStripeShape(vr, 'identity.verification_report');
  assert.equal(vr.type, 'document');
  assert.equal(vr.verification_session, vs.id);
  assert.equal(vr.client_reference_id, 'user_1');
  assert.equal(vr.document.status, 'verified');
  assert.equal(vr.document.type, 'passport');
  assert.equal(vr.document.error, null);
  assert.equal(vr.document.dob, null);
  assert.equal(vr.document.number, null);
  assert.equal(vr.selfie.status, 'verified');
  assert.equal(vr.id_number.status, 'verified');
  assert.equal(vr.id_number.id_number, null);
  const vrx = await stripe.identity.verificationReports.retrieve(vr.id, { expand: ['document.dob', 'document.number', 'id_number.id_number'] });
  assert.deepEqual(vrx.document.dob, { day: 1, month: 1, year: 1901 });
  assert.equal(typeof vrx.document.number, 'string');
  assert.equal(vrx.id_number.id_number, '987654320');

  assert.deepEqual(await eventTypesOf(stripe, vs.id), [
    'identity.verification_session.created',
    'identity.verification_session.processing',
    'identity.verification_session.verified',
  ]);
  const events = (await stripe.events.list({ type: 'identity.verification_session.verified' })).data;
  const ev = events.find((e) => e.data.object.id === vs.id);
  assert.equal(ev.data.object.url, null); // secrets and personal data stay out of events
  assert.equal(ev.data.object.client_secret, null);
  assert.equal(ev.data.object.verified_outputs, null); // a redaction could not erase it there
  assert.equal(ev.data.object.provided_details, null);
  verifiedId = vs.id;
});

test('an unverified outcome: requires_input with last_error, a fresh url that works', async () => {
  const vs = await stripe.identity.verificationSessions.create({ type: 'document', client_reference_id: 'user_2' });
  assert.deepEqual(vs.options, { document: {} });
  const page = await submitOnPage(vs, 'document_expired');
  assert.equal(await page.textContent('#done'), 'Thank you. You can close this page.');
  await page.close();
  const failed = await stripe.identity.verificationSessions.retrieve(vs.id);
  assertStripeShape(failed, 'identity.verification_session');
  assert.equal(failed.status, 'requires_input');
  assert.equal(failed.last_error.code, 'document_expired');
  assert.equal(typeof failed.last_error.reason, 'string');
  assert.equal(failed.verified_outputs, null);
  assert.ok(failed.url && failed.url !== vs.url, 'a new url once the last one was used');
  const vr = await stripe.identity.verificationReports.retrieve(failed.last_verification_report);
  assertStripeShape(vr, 'identity.verification_report');
  assert.equal(vr.document.status, 'unverified');
  assert.equal(vr.document.error.code, 'document_expired');
  assert.ok(vr.document.expiration_date.year < new Date().getUTCFullYear() + 1);
  assert.equal(vr.selfie, undefined); // no selfie check was asked for

  const page2 = await submitOnPage(failed, 'document_unverified_other');
  await page2.close();
  const again = await stripe.identity.verificationSessions.retrieve(vs.id);
  assert.equal(again.last_error.code, 'document_unverified_other');
  assert.notEqual(again.last_verification_report, failed.last_verification_report);
  assert.deepEqual(await eventTypesOf(stripe, vs.id), [
    'identity.verification_session.created',
    'identity.verification_session.processing',
    'identity.verification_session.requires_input',
    'identity.verification_session.processing',
    'identity.verification_session.requires_input',
  ]);
});

test('a url not opened within 48 hours has expired: the session shows a new one', async () => {
  const vs = await stripe.identity.verificationSessions.create({ type: 'document' });
  // the session made two days ago (its first link with it)
  storeSql(env.dataDir, `UPDATE identity_verification_sessions SET created = created - 172800 WHERE id = '${vs.id}'`);
  const old = await env.request({ path: new URL(vs.url).pathname });
  assert.equal(old.status, 404);
  assert.match(old.body, /expired/);
  const again = await stripe.identity.verificationSessions.retrieve(vs.id);
  assert.equal(again.status, 'requires_input');
  assert.notEqual(again.url, vs.url);
  const fresh = await env.request({ path: new URL(again.url).pathname });
  assert.equal(fresh.status, 200);
  assert.match(fresh.body, /name="nonce"/);
});

let idnId;

test('an id_number session: the id number asked for, checked, mismatched, then verified', async () => {
  const vs = await stripe.identity.verificationSessions.create({ type: 'id_number', client_reference_id: 'user_3' });
  assert.deepEqual(vs.options, { id_number: {} });
  // a number that is not one: the form again, with what is wrong, and its one-time value still good
  const page = await browser.newPage();
  await page.goto(vs.url);
  await page.fill('#id_number', '12-3');
  const [bad] = await Promise.all([page.waitForNavigation(), page.click('#outcome-id_number_mismatch')]);
  assert.equal(bad.status(), 400);
  assert.match(await page.textContent('#error'), /9-digit/);
  await page.fill('#id_number', SSN_IDN);
  await Promise.all([page.waitForNavigation(), page.click('#outcome-id_number_mismatch')]);
  assert.equal(await page.textContent('#done'), 'Thank you. You can close this page.');
  await page.close();
  const failed = await stripe.identity.verificationSessions.retrieve(vs.id);
  assert.equal(failed.status, 'requires_input');
  assert.equal(failed.last_error.code, 'id_number_mismatch');
  const vr = await stripe.identity.verificationReports.retrieve(failed.last_verification_report, { expand: ['id_number.id_number', 'id_number.dob'] });
  assertStripeShape(vr, 'identity.verification_report');
  assert.equal(vr.type, 'id_number');
  assert.equal(vr.document, undefined);
  assert.equal(vr.id_number.status, 'unverified');
  assert.equal(vr.id_number.error.code, 'id_number_mismatch');
  assert.equal(vr.id_number.id_number, '912345671');
  assert.deepEqual(vr.id_number.dob, { day: 1, month: 1, year: 1901 });

  (await submitOnPage(failed, 'verified', SSN_IDN)).close();
  const done = await stripe.identity.verificationSessions.retrieve(vs.id, { expand: ['verified_outputs.id_number', 'verified_outputs.dob'] });
  assertStripeShape(done, 'identity.verification_session');
  assert.equal(done.status, 'verified');
  assert.equal(done.verified_outputs.id_number, '912345671');
  assert.deepEqual(done.verified_outputs.dob, { day: 1, month: 1, year: 1901 });
  assert.equal(done.verified_outputs.address, null);
  idnId = vs.id;
});

test('update, cancel and redact follow Stripe\'s state rules', async () => {
  const vs = await stripe.identity.verificationSessions.create({ type: 'document', options: { document: { require_matching_selfie: true } } });
  // updates while requires_input: the type replaces the other type's options
  const up = await stripe.identity.verificationSessions.update(vs.id, { type: 'id_number', metadata: { step: '2' } });
  assert.equal(up.type, 'id_number');
  assert.deepEqual(up.options, { id_number: {} });
  assert.deepEqual(up.metadata, { step: '2' });
  await assert.rejects(stripe.identity.verificationSessions.update(vs.id, { options: { document: { require_id_number: true } } }),
    (e) => e.statusCode === 400 && e.param === 'options[document]');
  const canceled = await stripe.identity.verificationSessions.cancel(vs.id);
  assertStripeShape(canceled, 'identity.verification_session');
  assert.equal(canceled.status, 'canceled');
  assert.equal(canceled.url, null);
  assert.equal(canceled.client_secret, null);
  // the link of a canceled session takes no submission
  const link = await env.request({ path: new URL(up.url).pathname });
  assert.equal(link.status, 200);
  assert.match(link.body, /no longer available/);
  await assert.rejects(stripe.identity.verificationSessions.cancel(vs.id), (e) => e.statusCode === 400);
  await assert.rejects(stripe.identity.verificationSessions.update(vs.id, { metadata: { a: 'b' } }), (e) => e.statusCode === 400);
  await assert.rejects(stripe.identity.verificationSessions.redact(vs.id), (e) => e.statusCode === 400);
  await assert.rejects(stripe.identity.verificationSessions.cancel(verifiedId), (e) => e.statusCode === 400 && /verified/.test(e.message));

  // redacting the verified session: its personal data erased, the event appended
  const red = await stripe.identity.verificationSessions.redact(verifiedId, { expand: ['verified_outputs.dob', 'verified_outputs.id_number'] });
  assertStripeShape(red, 'identity.verification_session');
  assert.deepEqual(red.redaction, { status: 'redacted' });
  assert.equal(red.status, 'verified');
  assert.deepEqual(red.metadata, {});
  assert.equal(red.verified_outputs.first_name, '[redacted]');
  assert.equal(red.verified_outputs.address.line1, '[redacted]');
  assert.equal(red.verified_outputs.dob, null);
  assert.equal(red.verified_outputs.id_number, null);
  assert.deepEqual(red.provided_details, { email: '[redacted]' });
  const vr = await stripe.identity.verificationReports.retrieve(red.last_verification_report, { expand: ['document.number', 'document.dob', 'id_number.id_number'] });
  assert.equal(vr.document.first_name, '[redacted]');
  assert.equal(vr.document.number, null);
  assert.equal(vr.document.dob, null);
  assert.equal(vr.id_number.id_number, null);
  const again = await stripe.identity.verificationSessions.redact(verifiedId);
  assert.deepEqual(again.redaction, { status: 'redacted' });
  const types = await eventTypesOf(stripe, verifiedId);
  assert.deepEqual(types.slice(-1), ['identity.verification_session.redacted']);
  assert.equal(types.filter((t) => t.endsWith('.redacted')).length, 1);
  await assert.rejects(stripe.identity.verificationSessions.update(verifiedId, { metadata: { a: 'b' } }), (e) => e.statusCode === 400);

  // redacting a session that waits for its user cancels it first
  const waiting = await stripe.identity.verificationSessions.create({ type: 'id_number', metadata: { k: 'v' } });
  const r2 = await stripe.identity.verificationSessions.redact(waiting.id);
  assert.equal(r2.status, 'canceled');
  assert.deepEqual(r2.redaction, { status: 'redacted' });
  assert.deepEqual(await eventTypesOf(stripe, waiting.id), [
    'identity.verification_session.created',
    'identity.verification_session.canceled',
    'identity.verification_session.redacted',
  ]);
});

test('lists filter by status, client_reference_id, session and type, with cursors', async () => {
  const verified = await stripe.identity.verificationSessions.list({ status: 'verified', limit: 100 });
  assert.ok(verified.data.every((s) => s.status === 'verified'));
  assert.ok(verified.data.some((s) => s.id === idnId));
  for (const s of verified.data) assertStripeShape(s, 'identity.verification_session');
  const byRef = await stripe.identity.verificationSessions.list({ client_reference_id: 'user_3' });
  assert.deepEqual(byRef.data.map((s) => s.id), [idnId]);
  const byCustomer = await stripe.identity.verificationSessions.list({ related_customer: customerId });
  assert.deepEqual(byCustomer.data.map((s) => s.id), [verifiedId]);
  const first = await stripe.identity.verificationSessions.list({ limit: 1 });
  assert.equal(first.has_more, true);
  const next = await stripe.identity.verificationSessions.list({ limit: 1, starting_after: first.data[0].id });
  assert.notEqual(next.data[0].id, first.data[0].id);

  const reports = await stripe.identity.verificationReports.list({ verification_session: idnId });
  assert.equal(reports.data.length, 2);
  assert.ok(reports.data.every((r) => r.verification_session === idnId && r.type === 'id_number'));
  const docs = await stripe.identity.verificationReports.list({ type: 'document', limit: 100 });
  assert.ok(docs.data.length >= 3 && docs.data.every((r) => r.type === 'document'));
  const ref = await stripe.identity.verificationReports.list({ client_reference_id: 'user_2' });
  assert.equal(ref.data.length, 2);
  for (const r of ref.data) assertStripeShape(r, 'identity.verification_report');
});

test('Stripe-shaped 400s, idempotent creates, and another merchant sees nothing', async () => {
  const k = env.merchant.secret_key;
  const post = (body) => env.request({ method: 'POST', path: '/v1/identity/verification_sessions', key: k, body });
  let res = await post('metadata[a]=b');
  assert.equal(res.status, 400);
  assert.equal(res.json.error.code, 'parameter_missing');
  assert.equal(res.json.error.param, 'type');
  res = await post('type=selfie');
  assert.equal(res.status, 400);
  assert.equal(res.json.error.param, 'type');
  res = await post('type=document&colour=blue');
  assert.equal(res.json.error.code, 'parameter_unknown');
  res = await post('type=document&options[document][allowed_types][]=library_card');
  assert.equal(res.status, 400);
  assert.equal(res.json.error.param, 'options[document][allowed_types][0]');
  res = await post('type=document&return_url=notaurl');
  assert.equal(res.json.error.code, 'url_invalid');
  res = await post('type=id_number&options[document][require_id_number]=true');
  assert.equal(res.json.error.param, 'options[document]');
  res = await post('type=document&related_customer=cus_nobody');
  assert.equal(res.json.error.code, 'resource_missing');
  assert.equal(res.json.error.param, 'related_customer');
  // another merchant's customer is not one
  res = await env.request({ method: 'POST', path: '/v1/identity/verification_sessions', key: env.merchants[1].secret_key, body: `type=document&related_customer=${customerId}` });
  assert.equal(res.json.error.code, 'resource_missing');

  const a = await stripe.identity.verificationSessions.create({ type: 'document' }, { idempotencyKey: 'idv-1' });
  const b = await stripe.identity.verificationSessions.create({ type: 'document' }, { idempotencyKey: 'idv-1' });
  assert.equal(a.id, b.id);
  assert.deepEqual(await eventTypesOf(stripe, a.id), ['identity.verification_session.created']);

  await assert.rejects(other.identity.verificationSessions.retrieve(a.id), (e) => e.statusCode === 404 && e.code === 'resource_missing');
  await assert.rejects(other.identity.verificationSessions.cancel(a.id), (e) => e.statusCode === 404);
  await assert.rejects(other.identity.verificationReports.retrieve((await stripe.identity.verificationSessions.retrieve(idnId)).last_verification_report), (e) => e.statusCode === 404);
  assert.equal((await other.identity.verificationSessions.list()).data.length, 0);
  assert.equal((await other.identity.verificationReports.list()).data.length, 0);
  // the page under another merchant's account id: not found
  const u = new URL(a.url);
  const parts = u.pathname.split('/');
  parts[2] = env.merchants[1].id;
  assert.equal((await env.request({ path: parts.join('/') })).status, 404);
});

test('the id numbers are sealed by the vault, never in clear in the store or the log', async () => {
  const sealed = storeSql(env.dataDir, 'SELECT count(*) FROM vault_identity').reduce((n, s) => n + Number(s.trim() || 0), 0);
  assert.ok(sealed >= 2, 'the reports\' personal data is in the vault');
  await env.server.stop();
  const stored = readStoreFiles(env.dataDir);
  const files = [...stored.map((x) => x.file), env.server.logPath];
  const hay = [...stored.map((x) => x.data), fs.readFileSync(env.server.logPath)];
  for (const n of CLEAR) {
    for (let i = 0; i < hay.length; i++) assert.ok(!hay[i].includes(n), `${n} found in clear in ${files[i]}`);
  }
  // with the master key, verify opens every sealed row, the identity data's included
  const v = require('node:child_process').spawnSync(BIN,
    withDatabaseUrls(['verify', '--data', env.dataDir, '--master-key-file', env.keyFile]), { encoding: 'utf8' });
  assert.equal(v.status, 0, v.stdout);
  assert.match(v.stdout, /verify: ok/);
  // and a damaged one is reported as identity data
  const pg = require('./helpers').PG_SHARD_URLS.length > 0;
  storeSql(env.dataDir, pg
    ? 'UPDATE vault_identity SET sealed = set_byte(sealed, 20, CASE WHEN get_byte(sealed, 20) = 0 THEN 1 ELSE 0 END) WHERE id = (SELECT min(id) FROM vault_identity)'
    : "UPDATE vault_identity SET sealed = substr(sealed, 1, 20) || CASE WHEN substr(sealed, 21, 1) = X'00' THEN X'01' ELSE X'00' END || substr(sealed, 22) WHERE id = (SELECT min(id) FROM vault_identity)");
  const bad = require('node:child_process').spawnSync(BIN,
    withDatabaseUrls(['verify', '--data', env.dataDir, '--master-key-file', env.keyFile]), { encoding: 'utf8' });
  assert.equal(bad.status, 1);
  assert.equal(bad.stdout.match(/FAIL vault: identity data \S+ \/ \S+ does not decrypt and authenticate/g).length, 1);
});
