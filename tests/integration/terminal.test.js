'use strict';
// Stripe Terminal through stripe-node, server-driven with a simulated reader: locations,
// configurations and connection tokens; a reader registered with `simulated-wpe`, its actions
// (process_payment_intent, set_reader_display, cancel_action, refund_payment's refusal) and the
// test helper that presents a card: a card_present PaymentMethod, the PaymentIntent confirmed
// through the payment path every charge takes (automatic and manual capture; a declined test
// amount fails the action), the two-step flow (collect_payment_method, then
// confirm_payment_intent, declined at confirm, a collect canceled), collect_inputs' forms and
// their test helpers, the charge's card_present
// details and balance transaction, the
// reader's events, idempotent replays, and another merchant's key answering 404.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { startTender, stopAll, assertStripeShape, readStoreFiles } = require('./helpers');

let env;
let stripe;
let other;

before(async () => {
  env = await startTender({ merchants: 2 });
  stripe = env.stripe();
  other = env.stripe(env.merchants[1].secret_key);
});
after(stopAll);

const ADDRESS = { line1: '1 Main St', city: 'San Francisco', state: 'CA', postal_code: '94111', country: 'US' };

async function rejects(p, status, code, param) {
  await assert.rejects(p, (e) => {
    assert.equal(e.statusCode, status, e.message);
    if (code !== undefined) assert.equal(e.code, code, e.message);
    if (param !== undefined) assert.equal(e.param, param, e.message);
    return true;
  });
}

// The spec Tender validates against (2023-08) predates the newer reader actions (collect_inputs,
// the two-step flow's): its action type enum is marked x-stripeBypassValidation (Stripe adds
// values to it), so that one finding, for those types only, is set aside; the rest of the reader
// is checked --complete.
const validator = require(path.join(process.env.TENDER_SHARED || '/work/shared', 'tools', 'stripe-openapi-validate.js'));
const NEWER_TYPE = /^\$\.action\.type: "(collect_inputs|collect_payment_method|confirm_payment_intent)" is not one of the allowed values .*x-stripeBypassValidation/;
function assertReaderShape(rd) {
  const problems = validator.validate(JSON.stringify(rd), 'terminal.reader', { complete: true }).filter((p) => !NEWER_TYPE.test(p));
  assert.deepEqual(problems, [], `terminal.reader does not match Stripe's spec:\n${problems.join('\n')}`);
}

// The reader's action (and its api_error) are checked key by key against stripe-node's
// Terminal/Readers.d.ts: every field it requires present (null where there is no value), none
// it does not define, and of the optional ones only the hash of the action's own type.
const fs = require('node:fs');
const READERS_DTS = fs.readFileSync(path.join(__dirname, '..', 'node_modules', 'stripe', 'cjs', 'resources', 'Terminal', 'Readers.d.ts'), 'utf8');
function dtsMembers(iface, indent) {
  const start = READERS_DTS.indexOf(`\n${' '.repeat(indent)}interface ${iface} {`);
  assert.ok(start >= 0, `interface ${iface} in Readers.d.ts`);
  const body = READERS_DTS.slice(start, READERS_DTS.indexOf(`\n${' '.repeat(indent)}}`, start + 1));
  const members = [...body.matchAll(new RegExp(`^ {${indent + 4}}(\\w+)(\\?)?:`, 'gm'))];
  assert.ok(members.length > 0, `members of ${iface}`);
  return { required: members.filter((m) => !m[2]).map((m) => m[1]).sort(), optional: members.filter((m) => m[2]).map((m) => m[1]).sort() };
}
function assertActionKeys(action) {
  const act = dtsMembers('Action', 4);
  const keys = Object.keys(action).sort();
  assert.deepEqual(keys.filter((k) => act.required.includes(k)), act.required, 'the action\'s required fields');
  assert.deepEqual(keys.filter((k) => !act.required.includes(k)), [action.type], 'the action\'s own hash, and nothing else');
  assert.ok(act.optional.includes(action.type), action.type);
  if (action.api_error !== null) {
    const err = dtsMembers('ApiError', 8);
    const ek = Object.keys(action.api_error);
    assert.deepEqual(err.required.filter((k) => !ek.includes(k)), [], 'api_error\'s required fields');
    assert.deepEqual(ek.filter((k) => !err.required.includes(k) && !err.optional.includes(k)), [], 'api_error\'s fields');
  }
}

async function eventsOf(id, type) {
  const ev = await stripe.events.list({ limit: 100, type });
  return ev.data.filter((e) => e.data.object.id === id);
}

let location;
let reader;

test('terminal: locations, configurations and connection tokens', async () => {
  location = await stripe.terminal.locations.create({ display_name: 'Front store', address: ADDRESS, metadata: { k: 'v' } });
  assert.match(location.id, /^tml_/);
  assert.equal(location.object, 'terminal.location');
  assert.equal(location.display_name, 'Front store');
  assert.equal(location.address.country, 'US');
  assert.deepEqual(location.metadata, { k: 'v' });
  assertStripeShape(location, 'terminal.location');
  await rejects(stripe.terminal.locations.create({ display_name: 'x' }), 400, 'parameter_missing', 'address');
  await rejects(stripe.terminal.locations.create({ address: ADDRESS }), 400, 'parameter_missing', 'display_name');
  await rejects(stripe.terminal.locations.create({ display_name: 'x', address: { city: 'Paris' } }), 400, 'parameter_missing', 'address[country]');
  await rejects(stripe.terminal.locations.create({ display_name: 'x', address: ADDRESS, colour: 'red' }), 400, 'parameter_unknown');

  const cfg = await stripe.terminal.configurations.create({
    tipping: { usd: { percentages: [10, 15, 20], smart_tip_threshold: 1000 } },
  });
  assert.match(cfg.id, /^tmc_/);
  assert.equal(cfg.is_account_default, false);
  assert.deepEqual(cfg.tipping.usd, { fixed_amounts: null, percentages: [10, 15, 20], smart_tip_threshold: 1000 });
  assertStripeShape(cfg, 'terminal.configuration');
  await rejects(stripe.terminal.configurations.create({ tipping: { usd: { percentages: [101] } } }), 400, undefined, 'tipping[usd][percentages]');
  const cfg2 = await stripe.terminal.configurations.update(cfg.id, { tipping: { eur: { fixed_amounts: [100, 200] } } });
  assert.deepEqual(Object.keys(cfg2.tipping), ['eur']);
  assert.deepEqual((await stripe.terminal.configurations.retrieve(cfg.id)).tipping, cfg2.tipping);
  const cfgs = await stripe.terminal.configurations.list();
  assert.deepEqual(cfgs.data.map((c) => c.id), [cfg.id]);
  assert.equal((await stripe.terminal.configurations.list({ is_account_default: true })).data.length, 0);

  const loc2 = await stripe.terminal.locations.update(location.id, { display_name: 'Front', configuration_overrides: cfg.id, metadata: { k: '' } });
  assert.equal(loc2.display_name, 'Front');
  assert.equal(loc2.configuration_overrides, cfg.id);
  assert.deepEqual(loc2.metadata, {});
  await rejects(stripe.terminal.locations.update(location.id, { configuration_overrides: 'tmc_nope' }), 400, 'resource_missing', 'configuration_overrides');

  const spare = await stripe.terminal.locations.create({ display_name: 'Spare', address: ADDRESS });
  const page = await stripe.terminal.locations.list({ limit: 1 });
  assert.deepEqual(page.data.map((l) => l.id), [spare.id]);
  assert.equal(page.has_more, true);
  const next = await stripe.terminal.locations.list({ limit: 1, starting_after: spare.id });
  assert.deepEqual(next.data.map((l) => l.id), [location.id]);
  const del = await stripe.terminal.locations.del(spare.id);
  assert.deepEqual(del, { id: spare.id, object: 'terminal.location', deleted: true });
  assert.equal((await stripe.terminal.locations.retrieve(spare.id)).deleted, true);
  assert.deepEqual((await stripe.terminal.locations.list()).data.map((l) => l.id), [location.id]);
  await rejects(stripe.terminal.locations.update(spare.id, { display_name: 'y' }), 404, 'resource_missing');

  const delCfg = await stripe.terminal.configurations.del(cfg2.id);
  assert.equal(delCfg.deleted, true);
  assert.equal((await stripe.terminal.configurations.list()).data.length, 0);

  const tok = await stripe.terminal.connectionTokens.create({ location: location.id });
  assert.equal(tok.object, 'terminal.connection_token');
  assert.match(tok.secret, /^pst_test_[A-Za-z0-9]{32}$/);
  assert.equal(tok.location, location.id);
  assertStripeShape(tok, 'terminal.connection_token');
  const tok2 = await stripe.terminal.connectionTokens.create({}, { idempotencyKey: 'ct-1' });
  assert.notEqual(tok2.secret, tok.secret);
  assert.equal(tok2.location, undefined);
  await rejects(stripe.terminal.connectionTokens.create({ location: 'tml_nope' }), 400, 'resource_missing', 'location');
  // the secret is never stored (nor kept for an Idempotency-Key)
  const files = readStoreFiles(env.dataDir);
  assert.ok(files.some(({ data }) => data.includes(location.id)), 'the scan reads the store');
  const leaked = files.filter(({ data }) => data.includes(tok.secret.slice(9)) || data.includes(tok2.secret.slice(9)));
  assert.deepEqual(leaked.map((f) => f.file), []);

  // another merchant's key sees none of them
  await rejects(other.terminal.locations.retrieve(location.id), 404, 'resource_missing');
  await rejects(other.terminal.locations.update(location.id, { display_name: 'z' }), 404, 'resource_missing');
  await rejects(other.terminal.locations.del(location.id), 404, 'resource_missing');
  await rejects(other.terminal.configurations.retrieve(cfg.id), 404, 'resource_missing');
  assert.equal((await other.terminal.locations.list()).data.length, 0);
  await rejects(other.terminal.connectionTokens.create({ location: location.id }), 400, 'resource_missing');
});

test('terminal: readers are registered, listed, updated and deleted', async () => {
  await rejects(stripe.terminal.readers.create({ registration_code: 'purple-cow-horse', location: location.id }), 400, undefined, 'registration_code');
  await rejects(stripe.terminal.readers.create({ registration_code: 'simulated-wpe' }), 400, 'parameter_missing', 'location');
  await rejects(stripe.terminal.readers.create({ registration_code: 'simulated-wpe', location: 'tml_nope' }), 400, 'resource_missing', 'location');
  reader = await stripe.terminal.readers.create({ registration_code: 'simulated-wpe', location: location.id, label: 'Till 1' });
  assert.match(reader.id, /^tmr_/);
  assert.equal(reader.device_type, 'simulated_wisepos_e');
  assert.equal(reader.status, 'online');
  assert.equal(reader.action, null);
  assert.equal(reader.label, 'Till 1');
  assert.equal(reader.location, location.id);
  assert.match(reader.serial_number, /^simulated-wpe-/);
  assertStripeShape(reader, 'terminal.reader');
  const spare = await stripe.terminal.readers.create({ registration_code: 'simulated-wpe', location: location.id });
  assert.equal(spare.label, spare.serial_number);

  const byLoc = await stripe.terminal.readers.list({ location: location.id });
  assert.deepEqual(byLoc.data.map((r) => r.id), [spare.id, reader.id]);
  assert.deepEqual((await stripe.terminal.readers.list({ serial_number: reader.serial_number })).data.map((r) => r.id), [reader.id]);
  assert.equal((await stripe.terminal.readers.list({ device_type: 'simulated_wisepos_e', status: 'online' })).data.length, 2);
  assert.equal((await stripe.terminal.readers.list({ device_type: 'bbpos_wisepos_e' })).data.length, 0);
  assert.equal((await stripe.terminal.readers.list({ status: 'offline' })).data.length, 0);

  const upd = await stripe.terminal.readers.update(reader.id, { label: 'Till A', metadata: { lane: '1' } });
  assert.equal(upd.label, 'Till A');
  assert.deepEqual(upd.metadata, { lane: '1' });
  assert.equal((await stripe.terminal.readers.retrieve(reader.id)).label, 'Till A');

  const del = await stripe.terminal.readers.del(spare.id);
  assert.deepEqual(del, { id: spare.id, object: 'terminal.reader', deleted: true });
  assert.equal((await stripe.terminal.readers.retrieve(spare.id)).deleted, true);
  assert.deepEqual((await stripe.terminal.readers.list()).data.map((r) => r.id), [reader.id]);
  await rejects(stripe.terminal.readers.processPaymentIntent(spare.id, { payment_intent: 'pi_x' }), 404, 'resource_missing');

  await rejects(other.terminal.readers.retrieve(reader.id), 404, 'resource_missing');
  await rejects(other.terminal.readers.update(reader.id, { label: 'x' }), 404, 'resource_missing');
  await rejects(other.terminal.readers.del(reader.id), 404, 'resource_missing');
  await rejects(other.terminal.readers.cancelAction(reader.id), 404, 'resource_missing');
  await rejects(other.testHelpers.terminal.readers.presentPaymentMethod(reader.id), 404, 'resource_missing');
  await rejects(other.terminal.readers.create({ registration_code: 'simulated-wpe', location: location.id }), 400, 'resource_missing', 'location');
  assert.equal((await other.terminal.readers.list()).data.length, 0);
});

test('terminal: a card presented on the reader pays the PaymentIntent (automatic capture)', async () => {
  const pi = await stripe.paymentIntents.create({ amount: 2500, currency: 'usd', payment_method_types: ['card_present'] });
  assert.deepEqual(pi.payment_method_types, ['card_present']);
  assert.deepEqual(pi.payment_method_options.card_present, { request_extended_authorization: null, request_incremental_authorization_support: null });
  assertStripeShape(pi, 'payment_intent');
  // a card_present intent is paid through a reader, not with a card through the API
  await rejects(stripe.paymentIntents.confirm(pi.id, { payment_method: 'pm_card_visa' }), 400, undefined, 'payment_method');
  // a card intent cannot go to a reader
  const online = await stripe.paymentIntents.create({ amount: 500, currency: 'usd' });
  await rejects(stripe.terminal.readers.processPaymentIntent(reader.id, { payment_intent: online.id }), 400, undefined, 'payment_intent');
  await rejects(stripe.terminal.readers.processPaymentIntent(reader.id, { payment_intent: 'pi_nope' }), 400, 'resource_missing', 'payment_intent');
  await rejects(stripe.testHelpers.terminal.readers.presentPaymentMethod(reader.id), 400);

  const r1 = await stripe.terminal.readers.processPaymentIntent(reader.id, { payment_intent: pi.id });
  assertActionKeys(r1.action);
  assert.deepEqual(r1.action, {
    api_error: null, failure_code: null, failure_message: null, process_payment_intent: { payment_intent: pi.id },
    status: 'in_progress', type: 'process_payment_intent',
  });
  assertStripeShape(r1, 'terminal.reader');
  // busy while it waits for the card
  await rejects(stripe.terminal.readers.setReaderDisplay(reader.id, { type: 'cart', cart: { currency: 'usd', line_items: [{ amount: 1, description: 'x', quantity: 1 }], total: 1 } }), 400, 'terminal_reader_busy');

  const key = `present-${pi.id}`;
  const first = await env.request({ method: 'POST', path: `/v1/test_helpers/terminal/readers/${reader.id}/present_payment_method`, key: env.merchant.secret_key, headers: { 'Idempotency-Key': key }, body: 'type=card_present' });
  assert.equal(first.status, 200, first.body);
  const r2 = first.json;
  assert.equal(r2.action.status, 'succeeded');
  assert.equal(r2.action.type, 'process_payment_intent');
  assert.equal(r2.action.process_payment_intent.payment_intent, pi.id);
  assertStripeShape(r2, 'terminal.reader');
  // the same key answers the same, replayed, and pays nothing twice
  const again = await env.request({ method: 'POST', path: `/v1/test_helpers/terminal/readers/${reader.id}/present_payment_method`, key: env.merchant.secret_key, headers: { 'Idempotency-Key': key }, body: 'type=card_present' });
  assert.equal(again.status, 200);
  assert.equal(again.body, first.body);
  assert.equal(again.headers['idempotent-replayed'], 'true');

  const paid = await stripe.paymentIntents.retrieve(pi.id, { expand: ['latest_charge.balance_transaction', 'payment_method'] });
  assert.equal(paid.status, 'succeeded');
  assert.equal(paid.amount_received, 2500);
  const pm = paid.payment_method;
  assert.equal(pm.type, 'card_present');
  assert.equal(pm.card, undefined);
  assert.equal(pm.card_present.brand, 'visa');
  assert.equal(pm.card_present.last4, '4242');
  assert.equal(pm.card_present.read_method, 'contactless_emv');
  assertStripeShape(pm, 'payment_method');
  const ch = paid.latest_charge;
  assert.equal(ch.status, 'succeeded');
  assert.equal(ch.captured, true);
  assert.equal(ch.payment_method_details.type, 'card_present');
  const cp = ch.payment_method_details.card_present;
  assert.equal(cp.brand, 'visa');
  assert.equal(cp.last4, '4242');
  assert.equal(cp.amount_authorized, 2500);
  assert.equal(cp.read_method, 'contactless_emv');
  assert.equal(cp.receipt.account_type, 'credit');
  assert.equal(ch.balance_transaction.amount, 2500);
  // Stripe's Terminal price (stripe.com/pricing: 2.7 % + 5¢): 2500 × 2.7 % = 67.5 → 68 (half
  // up), + 5 = 73; one "Stripe processing fees" line
  assert.equal(ch.balance_transaction.fee, 73);
  assert.equal(ch.balance_transaction.net, 2427);
  assert.deepEqual(ch.balance_transaction.fee_details, [{ amount: 73, application: null, currency: 'usd', description: 'Stripe processing fees', type: 'stripe_fee' }]);
  const plain = await stripe.charges.retrieve(ch.id);
  assertStripeShape(plain, 'charge');
  assert.equal((await stripe.paymentMethods.retrieve(pm.id)).type, 'card_present');
  // refunded as any charge (POST /v1/refunds)
  const refund = await stripe.refunds.create({ payment_intent: pi.id, amount: 500 });
  assert.equal(refund.status, 'succeeded');
  assert.equal((await stripe.charges.retrieve(ch.id)).amount_refunded, 500);

  const succeeded = await eventsOf(reader.id, 'terminal.reader.action_succeeded');
  assert.equal(succeeded.length, 1);
  assert.equal(succeeded[0].data.object.action.status, 'succeeded');
  assert.equal((await eventsOf(pi.id, 'payment_intent.succeeded')).length, 1);
  assert.equal((await eventsOf(ch.id, 'charge.succeeded')).length, 1);

  // another merchant's reader cannot take this merchant's intent
  const otherLoc = await other.terminal.locations.create({ display_name: 'Elsewhere', address: ADDRESS });
  const otherReader = await other.terminal.readers.create({ registration_code: 'simulated-wpe', location: otherLoc.id });
  const fresh = await stripe.paymentIntents.create({ amount: 900, currency: 'usd', payment_method_types: ['card_present'] });
  await rejects(other.terminal.readers.processPaymentIntent(otherReader.id, { payment_intent: fresh.id }), 400, 'resource_missing', 'payment_intent');
  await rejects(stripe.terminal.readers.processPaymentIntent(otherReader.id, { payment_intent: fresh.id }), 404, 'resource_missing');

  // a new action on the reader once the last one is over; a paid intent is not processed again
  await rejects(stripe.terminal.readers.processPaymentIntent(reader.id, { payment_intent: pi.id }), 400, 'payment_intent_unexpected_state');
  await rejects(stripe.testHelpers.terminal.readers.presentPaymentMethod(reader.id), 400);
});

test('terminal: manual capture, a declined test amount, and a card number of the merchant\'s choosing', async () => {
  const cus = await stripe.customers.create({ email: 'counter@example.com' });
  const pi = await stripe.paymentIntents.create({ amount: 4000, currency: 'usd', payment_method_types: ['card_present'], capture_method: 'manual', customer: cus.id, setup_future_usage: 'off_session' });
  await stripe.terminal.readers.processPaymentIntent(reader.id, { payment_intent: pi.id });
  const r = await stripe.testHelpers.terminal.readers.presentPaymentMethod(reader.id, { type: 'card_present', card_present: { number: '5555555555554444' } });
  assert.equal(r.action.status, 'succeeded');
  const held = await stripe.paymentIntents.retrieve(pi.id, { expand: ['latest_charge'] });
  assert.equal(held.status, 'requires_capture');
  assert.equal(held.amount_capturable, 4000);
  assert.equal(held.latest_charge.captured, false);
  assert.equal(held.latest_charge.payment_method_details.card_present.brand, 'mastercard');
  assert.equal(held.latest_charge.payment_method_details.card_present.last4, '4444');
  // the reader's card is not saved to the customer as it is (no generated card for a payment)
  assert.equal((await stripe.paymentMethods.retrieve(held.payment_method)).customer, null);
  assert.equal((await stripe.customers.listPaymentMethods(cus.id)).data.length, 0);
  const cap = await stripe.paymentIntents.capture(pi.id);
  assert.equal(cap.status, 'succeeded');
  const ch = await stripe.charges.retrieve(cap.latest_charge);
  assert.equal(ch.captured, true);
  assert.match(ch.balance_transaction, /^txn_/);
  assertStripeShape(ch, 'charge');
  // captured later, still priced as in person: 4000 × 2.7 % = 108, + 5 = 113
  let bt = await stripe.balanceTransactions.retrieve(ch.balance_transaction);
  assert.equal(bt.fee, 113);
  assert.equal(bt.net, 3887);
  // a card from Japan on the reader: Terminal's + 1.5 % for international cards (stripe.com/
  // pricing): 3000 × 4.2 % = 126, + 5 = 131
  const jp = await stripe.paymentIntents.create({ amount: 3000, currency: 'usd', payment_method_types: ['card_present'] });
  await stripe.terminal.readers.processPaymentIntent(reader.id, { payment_intent: jp.id });
  const rj = await stripe.testHelpers.terminal.readers.presentPaymentMethod(reader.id, { type: 'card_present', card_present: { number: '3566002020360505' } });
  assert.equal(rj.action.status, 'succeeded');
  const jpCh = await stripe.charges.retrieve((await stripe.paymentIntents.retrieve(jp.id)).latest_charge, { expand: ['balance_transaction'] });
  assert.equal(jpCh.payment_method_details.card_present.country, 'JP');
  bt = jpCh.balance_transaction;
  assert.equal(bt.fee, 131);
  assert.equal(bt.net, 2869);
  assert.deepEqual(bt.fee_details, [{ amount: 131, application: null, currency: 'usd', description: 'Stripe processing fees', type: 'stripe_fee' }]);
  assertStripeShape(bt, 'balance_transaction');

  // an amount ending in .05: Stripe's test decline, generic_decline
  const bad = await stripe.paymentIntents.create({ amount: 1005, currency: 'usd', payment_method_types: ['card_present'] });
  await stripe.terminal.readers.processPaymentIntent(reader.id, { payment_intent: bad.id });
  const failed = await stripe.testHelpers.terminal.readers.presentPaymentMethod(reader.id);
  assert.equal(failed.action.status, 'failed');
  assert.equal(failed.action.failure_code, 'card_declined');
  assert.equal(failed.action.failure_message, 'Your card was declined.');
  assertStripeShape(failed, 'terminal.reader');
  const after = await stripe.paymentIntents.retrieve(bad.id, { expand: ['latest_charge'] });
  // the decline is an API error (a card error), shown as the action's api_error
  assertActionKeys(failed.action);
  assert.deepEqual(failed.action.api_error, {
    charge: after.latest_charge.id, code: 'card_declined', decline_code: 'generic_decline',
    doc_url: 'https://stripe.com/docs/error-codes/card_declined', message: 'Your card was declined.',
    type: 'card_error',
  });
  assert.deepEqual((await stripe.terminal.readers.retrieve(reader.id)).action, failed.action);
  const failedEvent = (await eventsOf(reader.id, 'terminal.reader.action_failed'))[0];
  assert.deepEqual(failedEvent.data.object.action, failed.action);
  assert.equal(after.status, 'requires_payment_method');
  assert.equal(after.last_payment_error.decline_code, 'generic_decline');
  assert.equal(after.latest_charge.status, 'failed');
  assert.equal(after.latest_charge.payment_method_details.card_present.amount_authorized, null);
  assert.equal((await eventsOf(reader.id, 'terminal.reader.action_failed')).length, 1);
  assert.equal((await eventsOf(bad.id, 'payment_intent.payment_failed')).length, 1);
  // the intent can go to the reader again; Stripe's declining test card declines too
  await stripe.terminal.readers.processPaymentIntent(reader.id, { payment_intent: bad.id });
  const declined = await stripe.testHelpers.terminal.readers.presentPaymentMethod(reader.id, { card_present: { number: '4000000000000002' } });
  assert.equal(declined.action.status, 'failed');
  await rejects(stripe.testHelpers.terminal.readers.presentPaymentMethod(reader.id, { card_present: { number: '4242424242424241' } }), 400);
  await rejects(stripe.testHelpers.terminal.readers.presentPaymentMethod(reader.id, { type: 'interac_present' }), 400, undefined, 'type');
});

test('terminal: set_reader_display, cancel_action, refund_payment, process_setup_intent', async () => {
  const shown = await stripe.terminal.readers.setReaderDisplay(reader.id, {
    type: 'cart',
    cart: { currency: 'usd', line_items: [{ amount: 500, description: 'Coffee', quantity: 2 }], tax: 80, total: 1080 },
  });
  assert.equal(shown.action.type, 'set_reader_display');
  assert.equal(shown.action.status, 'succeeded');
  assert.deepEqual(shown.action.set_reader_display, {
    cart: { currency: 'usd', line_items: [{ amount: 500, description: 'Coffee', quantity: 2 }], tax: 80, total: 1080 },
    type: 'cart',
  });
  assertStripeShape(shown, 'terminal.reader');
  await rejects(stripe.terminal.readers.setReaderDisplay(reader.id, { type: 'cart', cart: { currency: 'usd', total: 1 } }), 400, 'parameter_missing');
  await rejects(stripe.terminal.readers.cancelAction(reader.id), 400); // nothing in progress

  const pi = await stripe.paymentIntents.create({ amount: 700, currency: 'usd', payment_method_types: ['card_present'] });
  await stripe.terminal.readers.processPaymentIntent(reader.id, { payment_intent: pi.id }, { idempotencyKey: `ppi-${pi.id}` });
  // the same key replays the answer, not a busy reader
  const replay = await stripe.terminal.readers.processPaymentIntent(reader.id, { payment_intent: pi.id }, { idempotencyKey: `ppi-${pi.id}` });
  assert.equal(replay.action.status, 'in_progress');
  const canceled = await stripe.terminal.readers.cancelAction(reader.id);
  assert.equal(canceled.action, null);
  assert.equal((await stripe.paymentIntents.retrieve(pi.id)).status, 'requires_payment_method');
  await rejects(stripe.testHelpers.terminal.readers.presentPaymentMethod(reader.id), 400);

  const paidIntent = (await stripe.paymentIntents.list({ limit: 10 })).data.find((p) => p.status === 'succeeded');
  await rejects(stripe.terminal.readers.refundPayment(reader.id, { payment_intent: paidIntent.id }), 400, undefined, 'payment_intent');

});

test('terminal: a card saved through the reader (process_setup_intent) is a generated card', async () => {
  const cus = await stripe.customers.create({ email: 'walkin@example.com' });
  const si = await stripe.setupIntents.create({ customer: cus.id, payment_method_types: ['card_present'] });
  await rejects(stripe.terminal.readers.processSetupIntent(reader.id, { setup_intent: si.id, customer_consent_collected: false }), 400, undefined, 'customer_consent_collected');
  await rejects(stripe.terminal.readers.processSetupIntent(reader.id, { setup_intent: 'seti_nope', customer_consent_collected: true }), 400, 'resource_missing', 'setup_intent');
  const r = await stripe.terminal.readers.processSetupIntent(reader.id, { setup_intent: si.id, customer_consent_collected: true });
  assert.deepEqual(r.action.process_setup_intent, { setup_intent: si.id });
  assert.equal(r.action.status, 'in_progress');
  assertStripeShape(r, 'terminal.reader');
  // a card intent's setup refuses the reader's card, and leaves the action waiting
  const cardOnly = await stripe.setupIntents.create({ payment_method_types: ['card'] });
  assert.equal((await stripe.terminal.readers.cancelAction(reader.id)).action, null);
  await stripe.terminal.readers.processSetupIntent(reader.id, { setup_intent: cardOnly.id, customer_consent_collected: true });
  await rejects(stripe.testHelpers.terminal.readers.presentPaymentMethod(reader.id), 400, undefined, 'payment_method');
  assert.equal((await stripe.terminal.readers.retrieve(reader.id)).action.status, 'in_progress');
  await stripe.terminal.readers.cancelAction(reader.id);

  await stripe.terminal.readers.processSetupIntent(reader.id, { setup_intent: si.id, customer_consent_collected: true });
  const done = await stripe.testHelpers.terminal.readers.presentPaymentMethod(reader.id, { card_present: { number: '5555555555554444' } });
  assert.equal(done.action.status, 'succeeded');
  const gen = done.action.process_setup_intent.generated_card;
  assert.match(gen, /^pm_/);
  assert.deepEqual(done.action.process_setup_intent, { generated_card: gen, setup_intent: si.id });
  assertStripeShape(done, 'terminal.reader');

  const saved = await stripe.setupIntents.retrieve(si.id, { expand: ['latest_attempt'] });
  assert.equal(saved.status, 'succeeded');
  assert.equal(saved.payment_method, gen);
  assertStripeShape(await stripe.setupIntents.retrieve(si.id), 'setup_intent');
  const att = saved.latest_attempt;
  assert.equal(att.status, 'succeeded');
  assert.deepEqual(att.payment_method_details, { card_present: { generated_card: gen }, type: 'card_present' });
  assertStripeShape(att, 'setup_attempt');
  const presented = await stripe.paymentMethods.retrieve(att.payment_method);
  assert.equal(presented.type, 'card_present');
  const card = await stripe.paymentMethods.retrieve(gen);
  assert.equal(card.type, 'card');
  assert.equal(card.customer, cus.id);
  assert.equal(card.card.brand, 'mastercard');
  assert.equal(card.card.last4, '4444');
  assert.equal(card.card.generated_from.charge, null);
  assert.equal(card.card.generated_from.setup_attempt, att.id);
  assert.equal(card.card.generated_from.payment_method_details.type, 'card_present');
  assert.equal(card.card.generated_from.payment_method_details.card_present.last4, '4444');
  assertStripeShape(card, 'payment_method');
  assert.equal((await eventsOf(reader.id, 'terminal.reader.action_succeeded')).some((e) => e.data.object.action.type === 'process_setup_intent'), true);
  assert.equal((await eventsOf(si.id, 'setup_intent.succeeded')).length, 1);

  // the generated card pays online later, off session, as any saved card
  const later = await stripe.paymentIntents.create({ amount: 1200, currency: 'usd', customer: cus.id, payment_method: gen, confirm: true, off_session: true });
  assert.equal(later.status, 'succeeded');
  const ch = await stripe.charges.retrieve(later.latest_charge);
  assert.equal(ch.payment_method_details.type, 'card');
  assert.equal(ch.payment_method_details.card.last4, '4444');

  // a declined card fails the action and the setup
  const si2 = await stripe.setupIntents.create({ payment_method_types: ['card_present'] });
  await stripe.terminal.readers.processSetupIntent(reader.id, { setup_intent: si2.id, customer_consent_collected: true });
  const failed = await stripe.testHelpers.terminal.readers.presentPaymentMethod(reader.id, { card_present: { number: '4000000000000002' } });
  assert.equal(failed.action.status, 'failed');
  assert.equal(failed.action.failure_code, 'card_declined');
  assert.deepEqual(failed.action.process_setup_intent, { setup_intent: si2.id });
  const after = await stripe.setupIntents.retrieve(si2.id, { expand: ['latest_attempt'] });
  assert.equal(after.status, 'requires_payment_method');
  assert.deepEqual(after.latest_attempt.payment_method_details, { card_present: { generated_card: null }, type: 'card_present' });
});

test('terminal: two steps, collect_payment_method then confirm_payment_intent', async () => {
  const pi = await stripe.paymentIntents.create({ amount: 1800, currency: 'usd', payment_method_types: ['card_present'] });
  const collecting = await stripe.terminal.readers.collectPaymentMethod(reader.id, {
    payment_intent: pi.id, collect_config: { enable_customer_cancellation: true, skip_tipping: true, tipping: { amount_eligible: 1500 } },
  });
  assert.deepEqual(collecting.action, {
    api_error: null, failure_code: null, failure_message: null,
    collect_payment_method: { collect_config: { enable_customer_cancellation: true, skip_tipping: true, tipping: { amount_eligible: 1500 } }, payment_intent: pi.id },
    status: 'in_progress', type: 'collect_payment_method',
  });
  assertReaderShape(collecting);
  await rejects(stripe.terminal.readers.processPaymentIntent(reader.id, { payment_intent: pi.id }), 400, 'terminal_reader_busy');
  await rejects(stripe.terminal.readers.confirmPaymentIntent(reader.id, { payment_intent: pi.id }), 400, 'terminal_reader_busy');

  // the card is read and attached: nothing is authorized yet
  const collected = await stripe.testHelpers.terminal.readers.presentPaymentMethod(reader.id, { card_present: { number: '5555555555554444' } });
  assert.equal(collected.action.status, 'succeeded');
  assert.equal(collected.action.type, 'collect_payment_method');
  const cpm = collected.action.collect_payment_method;
  assert.equal(cpm.payment_intent, pi.id);
  assert.deepEqual(cpm.collect_config, collecting.action.collect_payment_method.collect_config);
  assert.equal(cpm.payment_method.type, 'card_present');
  assert.equal(cpm.payment_method.card_present.brand, 'mastercard');
  assert.equal(cpm.payment_method.card_present.last4, '4444');
  assertStripeShape(cpm.payment_method, 'payment_method');
  assertReaderShape(collected);
  const waiting = await stripe.paymentIntents.retrieve(pi.id);
  assert.equal(waiting.status, 'requires_confirmation');
  assert.equal(waiting.payment_method, cpm.payment_method.id);
  assert.equal(waiting.latest_charge, null);
  assertStripeShape(waiting, 'payment_intent');
  assert.equal((await stripe.charges.list({ payment_intent: pi.id })).data.length, 0);

  // confirmed with what was collected, for that intent only
  const other = await stripe.paymentIntents.create({ amount: 300, currency: 'usd', payment_method_types: ['card_present'] });
  await rejects(stripe.terminal.readers.confirmPaymentIntent(reader.id, { payment_intent: other.id }), 400, undefined, 'payment_intent');
  await rejects(stripe.terminal.readers.confirmPaymentIntent(reader.id, { payment_intent: pi.id, confirm_config: { return_url: 'nope' } }), 400, undefined, 'confirm_config[return_url]');
  const done = await stripe.terminal.readers.confirmPaymentIntent(reader.id, { payment_intent: pi.id, confirm_config: { return_url: 'https://shop.example/back' } });
  assert.deepEqual(done.action, {
    api_error: null, failure_code: null, failure_message: null,
    confirm_payment_intent: { confirm_config: { return_url: 'https://shop.example/back' }, payment_intent: pi.id },
    status: 'succeeded', type: 'confirm_payment_intent',
  });
  assertReaderShape(done);
  const paid = await stripe.paymentIntents.retrieve(pi.id, { expand: ['latest_charge'] });
  assert.equal(paid.status, 'succeeded');
  assert.equal(paid.amount_received, 1800);
  assert.equal(paid.payment_method, cpm.payment_method.id);
  assert.equal(paid.latest_charge.payment_method_details.type, 'card_present');
  assert.equal(paid.latest_charge.payment_method_details.card_present.last4, '4444');
  assertStripeShape(paid.latest_charge, 'charge');
  const succeeded = (await eventsOf(reader.id, 'terminal.reader.action_succeeded')).map((e) => e.data.object.action.type);
  assert.deepEqual(succeeded.slice(0, 2), ['confirm_payment_intent', 'collect_payment_method']);
  assert.equal((await eventsOf(pi.id, 'payment_intent.succeeded')).length, 1);
  // nothing collected is left to confirm
  await rejects(stripe.terminal.readers.confirmPaymentIntent(reader.id, { payment_intent: pi.id }), 400);
});

test('terminal: a two-step payment declined at confirm, a collect canceled, refused collect input', async () => {
  const bad = await stripe.paymentIntents.create({ amount: 1005, currency: 'usd', payment_method_types: ['card_present'] });
  await stripe.terminal.readers.collectPaymentMethod(reader.id, { payment_intent: bad.id });
  const collected = await stripe.testHelpers.terminal.readers.presentPaymentMethod(reader.id);
  assert.equal(collected.action.status, 'succeeded');
  assert.equal(collected.action.collect_payment_method.collect_config, undefined);
  assert.equal((await stripe.paymentIntents.retrieve(bad.id)).status, 'requires_confirmation');
  const failed = await stripe.terminal.readers.confirmPaymentIntent(reader.id, { payment_intent: bad.id });
  assert.equal(failed.action.type, 'confirm_payment_intent');
  assert.equal(failed.action.status, 'failed');
  assert.equal(failed.action.failure_code, 'card_declined');
  assert.equal(failed.action.failure_message, 'Your card was declined.');
  assertReaderShape(failed);
  const after = await stripe.paymentIntents.retrieve(bad.id);
  assert.equal(after.status, 'requires_payment_method');
  assert.equal(after.last_payment_error.decline_code, 'generic_decline');
  const failedEvents = await eventsOf(reader.id, 'terminal.reader.action_failed');
  assert.equal(failedEvents[0].data.object.action.type, 'confirm_payment_intent');
  assert.equal((await eventsOf(bad.id, 'payment_intent.payment_failed')).length, 1);

  // cancel_action on a collect waiting for the card: the intent is left as it was
  const pi = await stripe.paymentIntents.create({ amount: 600, currency: 'usd', payment_method_types: ['card_present'] });
  await stripe.terminal.readers.collectPaymentMethod(reader.id, { payment_intent: pi.id });
  const canceled = await stripe.terminal.readers.cancelAction(reader.id);
  assert.equal(canceled.action, null);
  const untouched = await stripe.paymentIntents.retrieve(pi.id);
  assert.equal(untouched.status, 'requires_payment_method');
  assert.equal(untouched.payment_method, null);
  await rejects(stripe.testHelpers.terminal.readers.presentPaymentMethod(reader.id), 400);
  await rejects(stripe.terminal.readers.confirmPaymentIntent(reader.id, { payment_intent: pi.id }), 400, undefined, 'payment_intent');

  // refused input changes nothing
  const online = await stripe.paymentIntents.create({ amount: 500, currency: 'usd' });
  await rejects(stripe.terminal.readers.collectPaymentMethod(reader.id, { payment_intent: online.id }), 400, undefined, 'payment_intent');
  await rejects(stripe.terminal.readers.collectPaymentMethod(reader.id, { payment_intent: 'pi_nope' }), 400, 'resource_missing', 'payment_intent');
  await rejects(stripe.terminal.readers.collectPaymentMethod(reader.id, {}), 400, 'parameter_missing', 'payment_intent');
  await rejects(stripe.terminal.readers.collectPaymentMethod(reader.id, { payment_intent: pi.id, collect_config: { allow_redisplay: 'always' } }), 400, undefined, 'collect_config[allow_redisplay]');
  await rejects(stripe.terminal.readers.collectPaymentMethod(reader.id, { payment_intent: pi.id, collect_config: { colour: 'red' } }), 400, 'parameter_unknown');
  await rejects(stripe.terminal.readers.confirmPaymentIntent(reader.id, {}), 400, 'parameter_missing', 'payment_intent');
  assert.equal((await stripe.terminal.readers.retrieve(reader.id)).action, null);
});

test('terminal: collect_inputs shows forms on the reader, completed or timed out by the test helpers', async () => {
  const inputs = [
    { type: 'email', custom_text: { title: 'Email', description: 'For your receipt', submit_button: 'Send', skip_button: 'Skip' }, required: false },
    { type: 'selection', custom_text: { title: 'Size' }, required: true, selection: { choices: [{ id: 's', style: 'primary', text: 'Small' }, { id: 'l', text: 'Large' }] } },
    { type: 'text', custom_text: { title: 'Name' }, toggles: [{ title: 'Newsletter', default_value: 'enabled' }] },
  ];
  const shown = await stripe.terminal.readers.collectInputs(reader.id, { inputs, metadata: { order: '42' } });
  assert.equal(shown.action.type, 'collect_inputs');
  assert.equal(shown.action.status, 'in_progress');
  assert.deepEqual(shown.action.collect_inputs, {
    inputs: [
      { custom_text: { description: 'For your receipt', skip_button: 'Skip', submit_button: 'Send', title: 'Email' }, email: { value: null }, required: false, toggles: null, type: 'email' },
      { custom_text: { description: null, skip_button: null, submit_button: null, title: 'Size' }, required: true,
        selection: { choices: [{ id: 's', style: 'primary', text: 'Small' }, { id: 'l', style: null, text: 'Large' }], id: null, text: null }, toggles: null, type: 'selection' },
      { custom_text: { description: null, skip_button: null, submit_button: null, title: 'Name' }, required: null, text: { value: null },
        toggles: [{ default_value: 'enabled', description: null, title: 'Newsletter', value: null }], type: 'text' },
    ],
    metadata: { order: '42' },
  });
  assertReaderShape(shown);
  await rejects(stripe.terminal.readers.setReaderDisplay(reader.id, { type: 'cart', cart: { currency: 'usd', line_items: [{ amount: 1, description: 'x', quantity: 1 }], total: 1 } }), 400, 'terminal_reader_busy');
  await rejects(stripe.testHelpers.terminal.readers.presentPaymentMethod(reader.id), 400);

  // the simulated reader's documented values; a toggle keeps its default
  const done = await stripe.testHelpers.terminal.readers.succeedInputCollection(reader.id);
  assert.equal(done.action.status, 'succeeded');
  assertReaderShape(done);
  const [email, size, name] = done.action.collect_inputs.inputs;
  assert.deepEqual(email.email, { value: 'someone@example.com' });
  assert.equal(email.skipped, false);
  assert.equal(size.selection.id, 's');
  assert.equal(size.selection.text, 'Small');
  assert.deepEqual(name.text, { value: 'Jane Doe' });
  assert.equal(name.toggles[0].value, 'enabled');
  assert.deepEqual(done.action.collect_inputs.metadata, { order: '42' });
  await rejects(stripe.testHelpers.terminal.readers.succeedInputCollection(reader.id), 400);
  assert.equal((await eventsOf(reader.id, 'terminal.reader.action_succeeded'))[0].data.object.action.type, 'collect_inputs');

  // every optional input skipped: only the required one is collected
  await stripe.terminal.readers.collectInputs(reader.id, { inputs });
  const some = await stripe.testHelpers.terminal.readers.succeedInputCollection(reader.id, { skip_non_required_inputs: 'all' });
  const [e2, s2, n2] = some.action.collect_inputs.inputs;
  assert.equal(some.action.collect_inputs.metadata, null);
  assert.deepEqual([e2.skipped, s2.skipped, n2.skipped], [true, false, true]);
  assert.deepEqual(e2.email, { value: null });
  assert.equal(s2.selection.id, 's');
  assert.deepEqual(n2.text, { value: null });

  // timed out: failed, nothing collected; canceled: cleared
  await stripe.terminal.readers.collectInputs(reader.id, { inputs: [inputs[0]] });
  const late = await stripe.testHelpers.terminal.readers.timeoutInputCollection(reader.id);
  assert.equal(late.action.status, 'failed');
  assert.equal(late.action.failure_code, 'collect_inputs_timeout');
  assert.equal(late.action.api_error, null); // a timeout is no API error
  assertActionKeys(late.action);
  assertReaderShape(late);
  assert.deepEqual(late.action.collect_inputs.inputs[0].email, { value: null });
  assert.equal((await eventsOf(reader.id, 'terminal.reader.action_failed'))[0].data.object.action.type, 'collect_inputs');
  await stripe.terminal.readers.collectInputs(reader.id, { inputs: [inputs[0]] });
  assert.equal((await stripe.terminal.readers.cancelAction(reader.id)).action, null);
  await rejects(stripe.testHelpers.terminal.readers.timeoutInputCollection(reader.id), 400);

  // refused input changes nothing
  await rejects(stripe.terminal.readers.collectInputs(reader.id, {}), 400, 'parameter_missing', 'inputs');
  await rejects(stripe.terminal.readers.collectInputs(reader.id, { inputs: [{ type: 'selection', custom_text: { title: 'x' } }] }), 400, 'parameter_missing', 'inputs[0][selection]');
  await rejects(stripe.terminal.readers.collectInputs(reader.id, { inputs: [{ type: 'email', custom_text: { title: 'x' }, selection: { choices: [{ id: 'a', text: 'A' }] } }] }), 400, undefined, 'inputs[0][selection]');
  await rejects(stripe.terminal.readers.collectInputs(reader.id, { inputs: [{ type: 'signature', custom_text: { title: 'Sign' } }] }), 400, undefined, 'inputs[0][type]');
  await rejects(stripe.terminal.readers.collectInputs(reader.id, { inputs: [{ type: 'email' }] }), 400, 'parameter_missing');
  await rejects(stripe.terminal.readers.collectInputs(reader.id, { inputs: [{ type: 'color', custom_text: { title: 'x' } }] }), 400);
  assert.equal((await stripe.terminal.readers.retrieve(reader.id)).action, null);
});

test('terminal: no card number presented on a reader is in clear on disk or in the log', async () => {
  // the numbers the tests above presented (paid, declined, refused as invalid), and the one the
  // helper presents by default; the files are read after every test of this file has run
  const loc = await stripe.terminal.locations.create({ display_name: 'Scan', address: ADDRESS });
  const rd = await stripe.terminal.readers.create({ registration_code: 'simulated-wpe', location: loc.id });
  const pi = await stripe.paymentIntents.create({ amount: 900, currency: 'usd', payment_method_types: ['card_present'] });
  await stripe.terminal.readers.processPaymentIntent(rd.id, { payment_intent: pi.id });
  await stripe.testHelpers.terminal.readers.presentPaymentMethod(rd.id);
  assert.equal((await stripe.paymentIntents.retrieve(pi.id)).status, 'succeeded');
  const stored = readStoreFiles(env.dataDir);
  const log = require('node:fs').readFileSync(env.server.logPath);
  for (const n of ['4242424242424242', '5555555555554444', '4000000000000002', '4242424242424241']) {
    for (const { file, data } of [...stored, { file: env.server.logPath, data: log }]) {
      assert.ok(!data.includes(n), `${n.slice(-4)} in clear in ${file}`);
      assert.ok(!data.includes(Buffer.from(n, 'utf16le')), `utf16 ${n.slice(-4)} in ${file}`);
    }
  }
});
