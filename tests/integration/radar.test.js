'use strict';
// Stripe's Radar API through stripe-node: value lists and their items (per merchant, bounded,
// read by the fraud rules' `in @alias` at scoring time), early fraud warnings (test card 5423),
// reviews (a `manual_review` rule: the payment goes through, in review).
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { startTender, assertStripeShape, stopAll, waitFor } = require('./helpers');

let env;
let stripe;  // merchant 0
let stripe1; // merchant 1

before(async () => {
  const rulesFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'tender-radar-')), 'rules');
  fs.writeFileSync(rulesFile, [
    '# the merchants\' own value lists, by alias',
    'block if card_fingerprint in @blocked_cards',
    'block if customer in @blocked_customers',
    'allow if card_fingerprint in @trusted_cards',
    'block if amount == 7777',
    'manual_review if amount == 4321',
  ].join('\n'));
  env = await startTender({ merchants: 2, args: ['--rules-file', rulesFile] });
  stripe = env.stripe();
  stripe1 = env.stripe(env.merchants[1].secret_key);
});
after(stopAll);

async function rejects(p, status, check = () => {}) {
  try {
    await p;
  } catch (e) {
    assert.equal(e.statusCode, status, e.message);
    check(e);
    return e;
  }
  assert.fail(`expected a ${status}`);
}

async function pay(client, pm, extra = {}) {
  return client.paymentIntents.create({ amount: 2500, currency: 'usd', payment_method: pm, confirm: true, ...extra });
}

async function fingerprintOf(client, pm) {
  const pi = await pay(client, pm);
  assert.equal(pi.status, 'succeeded');
  const ch = await client.charges.retrieve(pi.latest_charge);
  return ch.payment_method_details.card.fingerprint;
}

test('value lists: create, retrieve, update, list (alias, contains), delete; Stripe\'s shape', async () => {
  const l = await stripe.radar.valueLists.create({ alias: 'crud_emails', name: 'Fraudulent emails', item_type: 'email', metadata: { team: 'risk' } });
  assertStripeShape(l, 'radar.value_list');
  assert.match(l.id, /^rsl_/);
  assert.equal(l.object, 'radar.value_list');
  assert.equal(l.alias, 'crud_emails');
  assert.equal(l.item_type, 'email');
  assert.deepEqual(l.metadata, { team: 'risk' });
  assert.deepEqual(l.list_items, { object: 'list', data: [], has_more: false, url: `/v1/radar/value_list_items?value_list=${l.id}` });
  assert.deepEqual(await stripe.radar.valueLists.retrieve(l.id), l);

  const item = await stripe.radar.valueListItems.create({ value_list: l.id, value: 'Jenny@Example.com' });
  assertStripeShape(item, 'radar.value_list_item');
  assert.match(item.id, /^rsli_/);
  assert.equal(item.value, 'Jenny@Example.com');
  assert.equal(item.value_list, l.id);
  // an email list compares without case: the same address again is a duplicate
  await rejects(stripe.radar.valueListItems.create({ value_list: l.id, value: 'jenny@example.com' }), 400);
  await rejects(stripe.radar.valueListItems.create({ value_list: l.id, value: 'not-an-email' }), 400,
    (e) => assert.equal(e.raw.param, 'value'));
  assert.deepEqual(await stripe.radar.valueListItems.retrieve(item.id), item);

  const withItem = await stripe.radar.valueLists.retrieve(l.id);
  assertStripeShape(withItem, 'radar.value_list');
  assert.deepEqual(withItem.list_items.data, [item]);

  const up = await stripe.radar.valueLists.update(l.id, { name: 'Bad emails', alias: 'crud_emails2', metadata: { team: '', owner: 'ana' } });
  assertStripeShape(up, 'radar.value_list');
  assert.equal(up.name, 'Bad emails');
  assert.equal(up.alias, 'crud_emails2');
  assert.deepEqual(up.metadata, { owner: 'ana' });

  const other = await stripe.radar.valueLists.create({ alias: 'crud_strings', name: 'Strings' });
  assert.equal(other.item_type, 'string'); // Stripe's default
  await rejects(stripe.radar.valueLists.create({ alias: 'crud_strings', name: 'Again' }), 400,
    (e) => assert.equal(e.raw.param, 'alias'));
  await rejects(stripe.radar.valueLists.update(other.id, { alias: 'crud_emails2' }), 400);

  const byAlias = await stripe.radar.valueLists.list({ alias: 'crud_emails2' });
  assert.deepEqual(byAlias.data.map((x) => x.id), [l.id]);
  assert.equal(byAlias.url, '/v1/radar/value_lists');
  const contains = await stripe.radar.valueLists.list({ contains: 'Jenny@Example.com' });
  assert.deepEqual(contains.data.map((x) => x.id), [l.id]);
  // `contains` compares as each list does: an email list ignores case, a case-sensitive one not
  assert.deepEqual((await stripe.radar.valueLists.list({ contains: 'JENNY@example.com' })).data.map((x) => x.id), [l.id]);
  const cs = await stripe.radar.valueLists.create({ alias: 'crud_cs', name: 'Exact', item_type: 'case_sensitive_string' });
  await stripe.radar.valueListItems.create({ value_list: cs.id, value: 'AbC' });
  await stripe.radar.valueListItems.create({ value_list: cs.id, value: 'abc' }); // another value here
  assert.deepEqual((await stripe.radar.valueLists.list({ contains: 'AbC' })).data.map((x) => x.id), [cs.id]);
  assert.deepEqual((await stripe.radar.valueLists.list({ contains: 'ABC' })).data, []);
  const all = await stripe.radar.valueLists.list({ limit: 100 });
  assert.ok(all.data.findIndex((x) => x.id === other.id) < all.data.findIndex((x) => x.id === l.id), 'newest first');
  for (const x of all.data) assertStripeShape(x, 'radar.value_list');

  const items = await stripe.radar.valueListItems.list({ value_list: l.id });
  assert.deepEqual(items.data, [item]);
  assert.deepEqual((await stripe.radar.valueListItems.list({ value_list: l.id, value: 'nobody@example.com' })).data, []);

  const di = await stripe.radar.valueListItems.del(item.id);
  assert.deepEqual(di, { id: item.id, object: 'radar.value_list_item', deleted: true });
  await rejects(stripe.radar.valueListItems.retrieve(item.id), 404);
  // the item may be added again once deleted
  const again = await stripe.radar.valueListItems.create({ value_list: l.id, value: 'jenny@example.com' });

  const d = await stripe.radar.valueLists.del(l.id);
  assert.deepEqual(d, { id: l.id, object: 'radar.value_list', deleted: true });
  await rejects(stripe.radar.valueLists.retrieve(l.id), 404, (e) => assert.equal(e.code, 'resource_missing'));
  await rejects(stripe.radar.valueListItems.retrieve(again.id), 404); // its items went with it
  await rejects(stripe.radar.valueListItems.list({ value_list: l.id }), 404);
});

test('bad parameters are 400', async () => {
  await rejects(stripe.radar.valueLists.create({ alias: 'no_name' }), 400, (e) => assert.equal(e.code, 'parameter_missing'));
  await rejects(stripe.radar.valueLists.create({ name: 'No alias' }), 400, (e) => assert.equal(e.code, 'parameter_missing'));
  await rejects(stripe.radar.valueLists.create({ alias: 'bad alias!', name: 'x' }), 400, (e) => assert.equal(e.raw.param, 'alias'));
  await rejects(stripe.radar.valueLists.create({ alias: 'x'.repeat(64), name: 'x' }), 400);
  await rejects(stripe.radar.valueLists.create({ alias: 'typed', name: 'x', item_type: 'shoe_size' }), 400);
  await rejects(stripe.radar.valueLists.create({ alias: 'typed', name: 'x', color: 'red' }), 400, (e) => assert.equal(e.code, 'parameter_unknown'));
  await rejects(stripe.radar.valueListItems.list({}), 400, (e) => assert.equal(e.code, 'parameter_missing'));
  await rejects(stripe.radar.valueListItems.create({ value_list: 'rsl_nope', value: 'x' }), 404);
  const countries = await stripe.radar.valueLists.create({ alias: 'bad_countries', name: 'Countries', item_type: 'country' });
  await rejects(stripe.radar.valueListItems.create({ value_list: countries.id, value: 'USA' }), 400);
  const bins = await stripe.radar.valueLists.create({ alias: 'bad_bins', name: 'BINs', item_type: 'card_bin' });
  await rejects(stripe.radar.valueListItems.create({ value_list: bins.id, value: '42a242' }), 400);
  assertStripeShape(await stripe.radar.valueListItems.create({ value_list: bins.id, value: '424242' }), 'radar.value_list_item');
  const ips = await stripe.radar.valueLists.create({ alias: 'bad_ips', name: 'IPs', item_type: 'ip_address' });
  await rejects(stripe.radar.valueListItems.create({ value_list: ips.id, value: '300.1.1.1' }), 400);
  assertStripeShape(await stripe.radar.valueListItems.create({ value_list: ips.id, value: '2001:db8::1' }), 'radar.value_list_item');
});

test('a card fingerprint added to the list a rule names blocks that card\'s next payment; deleting it unblocks', async () => {
  const fp = await fingerprintOf(stripe, 'pm_card_visa');
  const list = await stripe.radar.valueLists.create({ alias: 'blocked_cards', name: 'Blocked cards', item_type: 'card_fingerprint' });
  // another card is not affected by an item that is not its own
  const other = await stripe.radar.valueListItems.create({ value_list: list.id, value: 'zzzzzzzzzzzzzzzz' });
  assert.equal((await pay(stripe, 'pm_card_visa')).status, 'succeeded');

  const item = await stripe.radar.valueListItems.create({ value_list: list.id, value: fp });
  const e = await rejects(pay(stripe, 'pm_card_visa'), 402, (err) => {
    assert.equal(err.code, 'card_declined');
    assert.equal(err.decline_code, 'fraudulent');
  });
  const ch = await stripe.charges.retrieve(e.raw.payment_intent.latest_charge);
  assertStripeShape(ch, 'charge');
  assert.equal(ch.status, 'failed');
  assert.equal(ch.outcome.type, 'blocked');
  assert.equal(ch.outcome.reason, 'rule');
  // a different card of the same merchant still pays
  assert.equal((await pay(stripe, 'pm_card_mastercard')).status, 'succeeded');

  await stripe.radar.valueListItems.del(item.id);
  assert.equal((await pay(stripe, 'pm_card_visa')).status, 'succeeded');
  await stripe.radar.valueListItems.del(other.id);
});

test('a customer id list blocks that customer\'s payments; an allow list wins over a block list', async () => {
  const cus = await stripe.customers.create({ email: 'listed@example.com' });
  const list = await stripe.radar.valueLists.create({ alias: 'blocked_customers', name: 'Blocked customers', item_type: 'customer_id' });
  await stripe.radar.valueListItems.create({ value_list: list.id, value: cus.id });
  await rejects(pay(stripe, 'pm_card_visa', { customer: cus.id }), 402, (err) => assert.equal(err.decline_code, 'fraudulent'));
  // customer_id compares exactly
  const upper = await stripe.customers.create();
  assert.equal((await pay(stripe, 'pm_card_visa', { customer: upper.id })).status, 'succeeded');

  // allow if card_fingerprint in @trusted_cards: beats the customer block and `amount == 7777`
  const fp = await fingerprintOf(stripe, 'pm_card_amex');
  await rejects(pay(stripe, 'pm_card_amex', { amount: 7777 }), 402);
  const trusted = await stripe.radar.valueLists.create({ alias: 'trusted_cards', name: 'Trusted', item_type: 'card_fingerprint' });
  await stripe.radar.valueListItems.create({ value_list: trusted.id, value: fp });
  assert.equal((await pay(stripe, 'pm_card_amex', { amount: 7777 })).status, 'succeeded');
  assert.equal((await pay(stripe, 'pm_card_amex', { customer: cus.id })).status, 'succeeded');
});

test('a list a rule names cannot be deleted', async () => {
  const l = (await stripe.radar.valueLists.list({ alias: 'blocked_cards' })).data[0];
  assert.ok(l, 'made by an earlier test');
  await rejects(stripe.radar.valueLists.del(l.id), 400);
  assert.equal((await stripe.radar.valueLists.retrieve(l.id)).id, l.id);
});

test('another merchant\'s lists are 404 and its items do not touch this merchant\'s payments', async () => {
  const mine = await stripe1.radar.valueLists.create({ alias: 'blocked_cards', name: 'Merchant 1 blocks', item_type: 'card_fingerprint' });
  const fp1 = await fingerprintOf(stripe1, 'pm_card_visa');
  const fp0 = await fingerprintOf(stripe, 'pm_card_visa');
  const it = await stripe1.radar.valueListItems.create({ value_list: mine.id, value: fp1 });
  if (fp0 !== fp1) await stripe1.radar.valueListItems.create({ value_list: mine.id, value: fp0 });
  // merchant 1 is blocked; merchant 0, whose own blocked_cards list no longer holds the card, pays
  await rejects(pay(stripe1, 'pm_card_visa'), 402);
  assert.equal((await pay(stripe, 'pm_card_visa')).status, 'succeeded');

  await rejects(stripe.radar.valueLists.retrieve(mine.id), 404);
  await rejects(stripe.radar.valueLists.update(mine.id, { name: 'stolen' }), 404);
  await rejects(stripe.radar.valueLists.del(mine.id), 404);
  await rejects(stripe.radar.valueListItems.retrieve(it.id), 404);
  await rejects(stripe.radar.valueListItems.del(it.id), 404);
  await rejects(stripe.radar.valueListItems.list({ value_list: mine.id }), 404);
  await rejects(stripe.radar.valueListItems.create({ value_list: mine.id, value: 'abc' }), 404);
  assert.ok(!(await stripe.radar.valueLists.list({ limit: 100 })).data.some((x) => x.id === mine.id));
  assert.equal((await stripe1.radar.valueListItems.retrieve(it.id)).id, it.id);
});

test('card 5423 (pm_card_createIssuerFraudRecord) succeeds, then an early fraud warning arrives; a full refund makes it not actionable', async () => {
  const pi = await pay(stripe, 'pm_card_createIssuerFraudRecord');
  assert.equal(pi.status, 'succeeded');
  const efw = await waitFor(async () => (await stripe.radar.earlyFraudWarnings.list({ charge: pi.latest_charge })).data[0],
    'an early fraud warning');
  assertStripeShape(efw, 'radar.early_fraud_warning');
  assert.match(efw.id, /^issfr_/);
  assert.equal(efw.actionable, true);
  assert.equal(efw.charge, pi.latest_charge);
  assert.equal(efw.payment_intent, pi.id);
  assert.equal(efw.fraud_type, 'made_with_stolen_card');
  assert.deepEqual(await stripe.radar.earlyFraudWarnings.retrieve(efw.id), efw);
  assert.deepEqual((await stripe.radar.earlyFraudWarnings.list({ payment_intent: pi.id })).data.map((x) => x.id), [efw.id]);
  assert.deepEqual((await stripe.radar.earlyFraudWarnings.list({ charge: 'ch_none' })).data, []);
  await rejects(stripe1.radar.earlyFraudWarnings.retrieve(efw.id), 404);
  assert.deepEqual((await stripe1.radar.earlyFraudWarnings.list()).data, []);

  // a partial refund leaves it actionable; the rest ends it
  await stripe.refunds.create({ payment_intent: pi.id, amount: 1000 });
  assert.equal((await stripe.radar.earlyFraudWarnings.retrieve(efw.id)).actionable, true);
  await stripe.refunds.create({ payment_intent: pi.id });
  const after = await stripe.radar.earlyFraudWarnings.retrieve(efw.id);
  assertStripeShape(after, 'radar.early_fraud_warning');
  assert.equal(after.actionable, false);

  const events = [];
  for await (const e of stripe.events.list({ type: 'radar.early_fraud_warning.*', limit: 100 })) {
    if (e.data.object.id === efw.id) events.push(e);
  }
  events.reverse();
  assert.deepEqual(events.map((e) => e.type), ['radar.early_fraud_warning.created', 'radar.early_fraud_warning.updated']);
  assert.equal(events[0].data.object.actionable, true);
  assert.equal(events[1].data.object.actionable, false);
  assert.deepEqual(events[1].data.previous_attributes, { actionable: true });

  // an ordinary card gets none
  const plain = await pay(stripe, 'pm_card_visa', { amount: 2600 });
  await new Promise((r) => setTimeout(r, 3000));
  assert.deepEqual((await stripe.radar.earlyFraudWarnings.list({ charge: plain.latest_charge })).data, []);
});

test('a manual_review rule places the payment in review: it succeeds, its charge names an open review; approve closes it', async () => {
  const pi = await pay(stripe, 'pm_card_visa', { amount: 4321 });
  assert.equal(pi.status, 'succeeded');
  const ch = await stripe.charges.retrieve(pi.latest_charge);
  assertStripeShape(ch, 'charge');
  assert.equal(ch.outcome.type, 'manual_review');
  assert.equal(ch.outcome.reason, 'rule');
  assert.equal(ch.paid, true);
  assert.match(ch.review, /^prv_/);
  const rv = await stripe.reviews.retrieve(ch.review);
  assertStripeShape(rv, 'review');
  assert.equal(rv.object, 'review');
  assert.equal(rv.open, true);
  assert.equal(rv.reason, 'rule');
  assert.equal(rv.opened_reason, 'rule');
  assert.equal(rv.closed_reason, null);
  assert.equal(rv.charge, ch.id);
  assert.equal(rv.payment_intent, pi.id);
  // the intent names its review too: in the confirm's answer, on retrieval, in its event
  assert.equal(pi.review, rv.id);
  const pir = await stripe.paymentIntents.retrieve(pi.id);
  assertStripeShape(pir, 'payment_intent');
  assert.equal(pir.review, rv.id);
  // both expand to the review
  assert.deepEqual((await stripe.paymentIntents.retrieve(pi.id, { expand: ['review'] })).review, rv);
  assert.deepEqual((await stripe.charges.retrieve(ch.id, { expand: ['review'] })).review, rv);
  assert.ok((await stripe.reviews.list({ limit: 100 })).data.some((x) => x.id === rv.id));
  // the charge.succeeded event (rendered before the write) names it too
  const evs = [];
  for await (const e of stripe.events.list({ limit: 100 })) {
    if (e.data.object.id === ch.id || e.data.object.id === rv.id) evs.push(e);
  }
  const succeeded = evs.find((e) => e.type === 'charge.succeeded');
  assert.equal(succeeded.data.object.review, rv.id);
  const piev = [];
  for await (const e of stripe.events.list({ type: 'payment_intent.succeeded', limit: 100 })) {
    if (e.data.object.id === pi.id) piev.push(e);
  }
  assert.equal(piev.length, 1);
  assert.equal(piev[0].data.object.review, rv.id);
  assert.ok(evs.some((e) => e.type === 'review.opened' && e.data.object.id === rv.id));

  await rejects(stripe1.reviews.retrieve(rv.id), 404);
  await rejects(stripe1.reviews.approve(rv.id), 404);
  const ok = await stripe.reviews.approve(rv.id);
  assertStripeShape(ok, 'review');
  // a closed review stays the intent's review
  assert.equal((await stripe.paymentIntents.retrieve(pi.id)).review, rv.id);
  assert.equal(ok.open, false);
  assert.equal(ok.closed_reason, 'approved');
  assert.equal(ok.reason, 'approved');
  await rejects(stripe.reviews.approve(rv.id), 400);
  const closed = [];
  for await (const e of stripe.events.list({ type: 'review.closed', limit: 100 })) {
    if (e.data.object.id === rv.id) closed.push(e);
  }
  assert.equal(closed.length, 1);
  assert.equal(closed[0].data.object.closed_reason, 'approved');
  assert.equal(closed[0].data.previous_attributes.open, true);

  // an ordinary payment is in no review
  const plainPi = await pay(stripe, 'pm_card_visa');
  assert.equal(plainPi.review, null);
  const plain = await stripe.charges.retrieve(plainPi.latest_charge);
  assert.equal(plain.review, null);
  assert.equal(plain.outcome.type, 'authorized');

  // an authorization held for capture is placed in review as well, and its intent says so
  const held = await pay(stripe, 'pm_card_visa', { amount: 4321, capture_method: 'manual' });
  assert.equal(held.status, 'requires_capture');
  assert.match(held.review, /^prv_/);
  assert.equal((await stripe.charges.retrieve(held.latest_charge)).review, held.review);
  const captured = await stripe.paymentIntents.capture(held.id);
  assertStripeShape(captured, 'payment_intent');
  assert.equal(captured.review, held.review);
});

test('a refund closes the charge\'s review (refunded, or refunded_as_fraud)', async () => {
  const a = await pay(stripe, 'pm_card_visa', { amount: 4321 });
  // a fraudulent refund also block-lists the card (the last test): mastercard is blocked for
  // this merchant from here on
  const b = await pay(stripe, 'pm_card_mastercard', { amount: 4321 });
  const ra = (await stripe.charges.retrieve(a.latest_charge)).review;
  const rb = (await stripe.charges.retrieve(b.latest_charge)).review;
  await stripe.refunds.create({ payment_intent: a.id, amount: 100 });
  await stripe.refunds.create({ payment_intent: b.id, reason: 'fraudulent' });
  const x = await stripe.reviews.retrieve(ra);
  const y = await stripe.reviews.retrieve(rb);
  assertStripeShape(x, 'review');
  assert.equal(x.open, false);
  assert.equal(x.closed_reason, 'refunded');
  assert.equal(y.closed_reason, 'refunded_as_fraud');
  await rejects(stripe.reviews.approve(ra), 400);
  assert.deepEqual((await stripe1.reviews.list()).data, []);
});

test('Stripe\'s default lists (card_fingerprint_blocklist, customer_id_allowlist, …) apply without a rule of the merchant\'s, even with no rules file', async () => {
  const bare = await startTender(); // no --rules-file
  const s2 = bare.stripe();
  const fp = await fingerprintOf(s2, 'pm_card_discover');
  const bl = await s2.radar.valueLists.create({ alias: 'card_fingerprint_blocklist', name: 'Block list', item_type: 'card_fingerprint' });
  const item = await s2.radar.valueListItems.create({ value_list: bl.id, value: fp });
  const e = await rejects(pay(s2, 'pm_card_discover'), 402, (err) => assert.equal(err.decline_code, 'fraudulent'));
  const ch = await s2.charges.retrieve(e.raw.payment_intent.latest_charge);
  assert.equal(ch.outcome.type, 'blocked');
  assert.equal(ch.outcome.reason, 'rule');
  assert.equal((await pay(s2, 'pm_card_visa')).status, 'succeeded');
  await s2.radar.valueListItems.del(item.id);
  assert.equal((await pay(s2, 'pm_card_discover')).status, 'succeeded');

  // with the rules file: a default allow list beats the file's `block if amount == 7777`
  const cus = await stripe1.customers.create();
  await rejects(pay(stripe1, 'pm_card_mastercard', { amount: 7777, customer: cus.id }), 402);
  const al = await stripe1.radar.valueLists.create({ alias: 'customer_id_allowlist', name: 'Allow list', item_type: 'customer_id' });
  await stripe1.radar.valueListItems.create({ value_list: al.id, value: cus.id });
  assert.equal((await pay(stripe1, 'pm_card_mastercard', { amount: 7777, customer: cus.id })).status, 'succeeded');
  // merchant 0 has no such list: its payments of that amount are still blocked (visa: its
  // mastercard is in its card block list since a fraudulent refund above)
  await rejects(pay(stripe, 'pm_card_visa', { amount: 7777 }), 402);
});

test('a refund with reason fraudulent puts the card and the email into the default block lists: the card\'s next payment is blocked', async () => {
  const own = await startTender(); // no rules file: Stripe's default rules alone
  const s2 = own.stripe();
  const first = await pay(s2, 'pm_card_visa', { receipt_email: 'Fraud@Example.com' });
  // paid before the lists exist (once the email is listed, Stripe's default rule blocks it)
  const again = await pay(s2, 'pm_card_mastercard', { receipt_email: 'fraud@example.com' });
  const fp = (await s2.charges.retrieve(first.latest_charge)).payment_method_details.card.fingerprint;
  assert.equal((await s2.radar.valueLists.list()).data.length, 0);
  // a refund for another reason lists nothing
  await s2.refunds.create({ payment_intent: first.id, amount: 100, reason: 'requested_by_customer' });
  assert.equal((await s2.radar.valueLists.list()).data.length, 0);
  await s2.refunds.create({ payment_intent: first.id, reason: 'fraudulent' });
  const lists = (await s2.radar.valueLists.list()).data;
  const cards = lists.find((l) => l.alias === 'card_fingerprint_blocklist');
  const emails = lists.find((l) => l.alias === 'email_blocklist');
  assert.equal(cards.item_type, 'card_fingerprint');
  assert.equal(emails.item_type, 'email');
  for (const l of lists) assertStripeShape(l, 'radar.value_list');
  assert.deepEqual((await s2.radar.valueListItems.list({ value_list: cards.id })).data.map((i) => i.value), [fp]);
  assert.deepEqual((await s2.radar.valueListItems.list({ value_list: emails.id })).data.map((i) => i.value), ['Fraud@Example.com']);
  // the card's next payment is blocked by the default rule; another card pays
  const e = await rejects(pay(s2, 'pm_card_visa'), 402, (err) => assert.equal(err.decline_code, 'fraudulent'));
  assert.equal((await s2.charges.retrieve(e.raw.payment_intent.latest_charge)).outcome.type, 'blocked');
  assert.equal((await pay(s2, 'pm_card_mastercard')).status, 'succeeded');
  // the listed email blocks its next payment, whatever the card (email_blocklist)
  await rejects(pay(s2, 'pm_card_mastercard', { receipt_email: 'fraud@example.com' }), 402,
    (err) => assert.equal(err.decline_code, 'fraudulent'));
  // a second fraudulent refund of the same email lists it once
  await s2.refunds.create({ payment_intent: again.id, reason: 'fraudulent' });
  assert.equal((await s2.radar.valueListItems.list({ value_list: emails.id })).data.length, 1);
  assert.equal((await s2.radar.valueListItems.list({ value_list: cards.id })).data.length, 2);
  // taking the card off the list unblocks it
  const item = (await s2.radar.valueListItems.list({ value_list: cards.id, value: fp })).data[0];
  await s2.radar.valueListItems.del(item.id);
  assert.equal((await pay(s2, 'pm_card_visa')).status, 'succeeded');
  await own.stop();
});
