'use strict';
// Disputes: opened by the card network (test cards, ~2 s after the capture) or by
// `tender dispute open`; evidence, submission, the network's decision (~2 s later), closing,
// the money (withdrawal + 15.00 fee, reinstatement when won), events, verify, the dispute rate.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { startTender, assertStripeShape, stopAll, tender, waitFor } = require('./helpers');

let env;
let stripe;   // merchant 0: most tests
let stripe1;  // merchant 1: only the won dispute, so its balance is exactly that story

before(async () => {
  env = await startTender({ merchants: 2 });
  stripe = env.stripe();
  stripe1 = env.stripe(env.merchants[1].secret_key);
});
after(stopAll);

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Polls fn until it returns a truthy value (the network answers a few seconds later).
async function pay(client, pm, amount = 4000) {
  const pi = await client.paymentIntents.create({ amount, currency: 'usd', payment_method: pm, confirm: true });
  assert.equal(pi.status, 'succeeded');
  return pi;
}

async function disputeOf(client, charge) {
  return waitFor(async () => (await client.disputes.list({ charge })).data[0], `a dispute on ${charge}`);
}

async function waitStatus(client, id, status) {
  return waitFor(async () => {
    const d = await client.disputes.retrieve(id);
    return d.status === status ? d : null;
  }, `dispute ${id} to become ${status}`);
}

async function available(client) {
  const b = await client.balance.retrieve();
  const usd = b.available.find((x) => x.currency === 'usd');
  return usd ? usd.amount : 0;
}

async function eventTypes(client, id) {
  const all = [];
  for await (const e of client.events.list({ type: 'charge.dispute.*', limit: 100 })) all.push(e);
  return all.filter((e) => e.data.object.id === id).map((e) => e.type).reverse();
}

test('card 0259 opens a fraudulent dispute a few seconds after the charge; the shape is Stripe\'s', async () => {
  const pi = await pay(stripe, 'pm_card_createDispute', 4000);
  const d = await disputeOf(stripe, pi.latest_charge);
  assertStripeShape(d, 'dispute');
  assert.match(d.id, /^dp_/);
  assert.equal(d.object, 'dispute');
  assert.equal(d.amount, 4000);
  assert.equal(d.currency, 'usd');
  assert.equal(d.charge, pi.latest_charge);
  assert.equal(d.payment_intent, pi.id);
  assert.equal(d.reason, 'fraudulent');
  assert.equal(d.status, 'needs_response');
  assert.equal(d.is_charge_refundable, false);
  assert.equal(d.evidence_details.has_evidence, false);
  assert.equal(d.evidence_details.past_due, false);
  assert.equal(d.evidence_details.submission_count, 0);
  // 21 days, at the end of that UTC day
  assert.ok(d.evidence_details.due_by >= d.created + 21 * 86400);
  assert.equal((d.evidence_details.due_by + 1) % 86400, 0);
  assert.equal(d.payment_method_details.card.brand, 'visa');
  assert.equal(d.payment_method_details.card.network_reason_code, '10.4');
  assert.equal(d.balance_transactions.length, 1);
  const bt = d.balance_transactions[0];
  assertStripeShape(bt, 'balance_transaction');
  assert.equal(bt.type, 'adjustment');
  assert.equal(bt.reporting_category, 'dispute');
  assert.equal(bt.amount, -4000);
  assert.equal(bt.fee, 1500);
  assert.equal(bt.net, -5500);
  assert.equal(bt.source, d.id);
  assert.deepEqual(bt.fee_details.map((f) => [f.type, f.description, f.amount]), [['stripe_fee', 'Dispute fee', 1500]]);

  const ch = await stripe.charges.retrieve(pi.latest_charge);
  assert.equal(ch.disputed, true);
  // the list filters by charge and by payment_intent, and retrieve gives the same object
  assert.deepEqual((await stripe.disputes.list({ payment_intent: pi.id })).data.map((x) => x.id), [d.id]);
  assert.deepEqual((await stripe.disputes.list({ charge: 'ch_none' })).data, []);
  assert.deepEqual(await stripe.disputes.retrieve(d.id), d);
  // expand[]: the charge (and its balance transaction) and the payment intent, in lists too
  const ex = await stripe.disputes.retrieve(d.id, { expand: ['charge.balance_transaction', 'payment_intent'] });
  assert.equal(ex.charge.object, 'charge');
  assert.equal(ex.charge.disputed, true);
  assert.equal(ex.charge.balance_transaction.object, 'balance_transaction');
  assert.equal(ex.payment_intent.id, pi.id);
  const exl = await stripe.disputes.list({ charge: pi.latest_charge, expand: ['data.charge'] });
  assert.equal(exl.data[0].charge.id, pi.latest_charge);
  // the disputed amount cannot be refunded (Stripe: charge_disputed)
  await assert.rejects(stripe.refunds.create({ charge: pi.latest_charge }), (e) => {
    assert.equal(e.statusCode, 400);
    assert.equal(e.code, 'charge_disputed');
    return true;
  });
  // events, and the other merchant sees none of it
  assert.deepEqual(await eventTypes(stripe, d.id), ['charge.dispute.created', 'charge.dispute.funds_withdrawn']);
  await assert.rejects(stripe1.disputes.retrieve(d.id), (e) => e.statusCode === 404);
});

test('a won dispute: −amount −1500, then +amount back (the fee is kept)', async () => {
  const before0 = await available(stripe1);
  const pi = await pay(stripe1, 'pm_card_createDispute', 2500);
  const d = await disputeOf(stripe1, pi.latest_charge);
  assert.equal(await available(stripe1), before0 - 2500 - 1500);

  const upd = await stripe1.disputes.update(d.id, {
    evidence: { uncategorized_text: 'winning_evidence', customer_name: 'Jenny Rosen' },
    metadata: { case: '1' },
  });
  assert.equal(upd.status, 'under_review');
  assert.equal(upd.evidence.uncategorized_text, 'winning_evidence');
  assert.equal(upd.evidence.customer_name, 'Jenny Rosen');
  assert.equal(upd.evidence_details.has_evidence, true);
  assert.equal(upd.evidence_details.submission_count, 1);
  assert.deepEqual(upd.metadata, { case: '1' });
  assertStripeShape(upd, 'dispute');

  const won = await waitStatus(stripe1, d.id, 'won');
  assertStripeShape(won, 'dispute');
  assert.deepEqual(won.balance_transactions.map((b) => [b.type, b.amount, b.fee, b.net]),
    [['adjustment', -2500, 1500, -4000], ['adjustment', 2500, 0, 2500]]);
  assert.deepEqual(won.balance_transactions.map((b) => b.reporting_category), ['dispute', 'dispute_reversal']);
  assert.equal(await available(stripe1), before0 - 1500);
  const listed = await stripe1.balanceTransactions.list({ type: 'adjustment' });
  assert.deepEqual(listed.data.map((b) => b.amount).sort((a, b) => a - b), [-2500, 2500]);
  assert.deepEqual(await eventTypes(stripe1, d.id), [
    'charge.dispute.created', 'charge.dispute.funds_withdrawn', 'charge.dispute.updated',
    'charge.dispute.funds_reinstated', 'charge.dispute.closed',
  ]);
  // a decided dispute refuses evidence
  await assert.rejects(stripe1.disputes.update(d.id, { evidence: { uncategorized_text: 'more' } }), (e) => {
    assert.equal(e.statusCode, 400);
    assert.equal(e.type, 'StripeInvalidRequestError');
    return true;
  });
});

test('a lost dispute (losing_evidence) keeps the withdrawal; staged evidence waits for submit', async () => {
  const pi = await pay(stripe, 'pm_card_createDisputeProductNotReceived', 3000);
  const d = await disputeOf(stripe, pi.latest_charge);
  assert.equal(d.reason, 'product_not_received');
  assert.equal(d.payment_method_details.card.network_reason_code, '13.1');
  // staged: submit=false keeps needs_response
  const staged = await stripe.disputes.update(d.id, { evidence: { product_description: 'losing_evidence' }, submit: false });
  assert.equal(staged.status, 'needs_response');
  assert.equal(staged.evidence_details.submission_count, 0);
  assert.equal(staged.evidence_details.has_evidence, true);
  const sub = await stripe.disputes.update(d.id, { submit: true });
  assert.equal(sub.status, 'under_review');
  // under review: evidence can no longer change, the dispute cannot be closed
  await assert.rejects(stripe.disputes.update(d.id, { evidence: { uncategorized_text: 'x' } }), (e) => e.statusCode === 400);
  await assert.rejects(stripe.disputes.close(d.id), (e) => e.statusCode === 400);
  const lost = await waitStatus(stripe, d.id, 'lost');
  assert.equal(lost.balance_transactions.length, 1);
  assert.equal(lost.balance_transactions[0].amount, -3000);
  assertStripeShape(lost, 'dispute');
  const types = await eventTypes(stripe, d.id);
  assert.equal(types[types.length - 1], 'charge.dispute.closed');
  assert.ok(!types.includes('charge.dispute.funds_reinstated'));
});

test('closing a dispute accepts the loss; idempotent updates replay', async () => {
  const pi = await pay(stripe, 'pm_card_createDispute', 1800);
  const d = await disputeOf(stripe, pi.latest_charge);
  // an update with an Idempotency-Key is saved with its effects and replayed byte for byte
  const body = 'metadata[note]=first';
  const h = { 'Idempotency-Key': `dp-${d.id}` };
  const a = await env.request({ method: 'POST', path: `/v1/disputes/${d.id}`, key: env.merchant.secret_key, headers: h, body });
  const b = await env.request({ method: 'POST', path: `/v1/disputes/${d.id}`, key: env.merchant.secret_key, headers: h, body });
  assert.equal(a.status, 200);
  assert.equal(b.status, 200);
  assert.equal(b.body, a.body);
  assert.equal(b.headers['idempotent-replayed'], 'true');
  assert.equal(a.json.status, 'needs_response'); // metadata alone submits nothing
  const other = await env.request({ method: 'POST', path: `/v1/disputes/${d.id}`, key: env.merchant.secret_key, headers: h, body: 'metadata[note]=second' });
  assert.equal(other.status, 400);

  const closed = await stripe.disputes.close(d.id);
  assert.equal(closed.status, 'lost');
  assert.equal(closed.balance_transactions.length, 1);
  assertStripeShape(closed, 'dispute');
  await assert.rejects(stripe.disputes.close(d.id), (e) => e.statusCode === 400);
  // a closed dispute refuses every update, metadata included
  await assert.rejects(stripe.disputes.update(d.id, { metadata: { after: 'close' } }), (e) => {
    assert.equal(e.statusCode, 400);
    assert.match(e.message, /already closed/);
    return true;
  });
  const types = await eventTypes(stripe, d.id);
  assert.ok(types.includes('charge.dispute.closed'));
  await assert.rejects(stripe.disputes.retrieve('dp_nope'), (e) => e.statusCode === 404 && e.code === 'resource_missing');
});

test('an inquiry (1976) moves no money and ends warning_closed', async () => {
  const before0 = await available(stripe);
  const pi = await pay(stripe, 'pm_card_createDisputeInquiry', 2200);
  const d = await disputeOf(stripe, pi.latest_charge);
  assertStripeShape(d, 'dispute');
  assert.equal(d.status, 'warning_needs_response');
  assert.equal(d.is_charge_refundable, true);
  assert.deepEqual(d.balance_transactions, []);
  assert.ok(d.evidence_details.due_by >= d.created + 7 * 86400 && d.evidence_details.due_by < d.created + 9 * 86400);
  assert.equal(await available(stripe), before0);
  const sub = await stripe.disputes.update(d.id, { evidence: { uncategorized_text: 'winning_evidence' } });
  assert.equal(sub.status, 'warning_under_review');
  const closed = await waitStatus(stripe, d.id, 'warning_closed');
  assert.deepEqual(closed.balance_transactions, []);
  assert.equal(await available(stripe), before0);
  const types = await eventTypes(stripe, d.id);
  assert.deepEqual(types, ['charge.dispute.created', 'charge.dispute.updated', 'charge.dispute.closed']);
});

test('tender dispute open disputes an ordinary charge; once only', async () => {
  const pi = await pay(stripe, 'pm_card_visa', 1200);
  await sleep(2500); // an ordinary card: the network opens nothing by itself
  assert.deepEqual((await stripe.disputes.list({ charge: pi.latest_charge })).data, []);
  const out = JSON.parse(tender(['dispute', 'open', '--data', env.dataDir, '--charge', pi.latest_charge,
    '--reason', 'duplicate', '--amount', '1000']));
  assert.equal(out.object, 'dispute');
  assert.equal(out.amount, 1000);
  assert.equal(out.reason, 'duplicate');
  const d = await stripe.disputes.retrieve(out.id);
  assert.equal(d.status, 'needs_response');
  assert.equal(d.balance_transactions[0].amount, -1000);
  assertStripeShape(d, 'dispute');
  // the undisputed 200 can still be refunded; more cannot
  await assert.rejects(stripe.refunds.create({ charge: pi.latest_charge, amount: 300 }), (e) => e.code === 'charge_disputed');
  const re = await stripe.refunds.create({ charge: pi.latest_charge, amount: 200 });
  assert.equal(re.status, 'succeeded');
  assert.throws(() => tender(['dispute', 'open', '--data', env.dataDir, '--charge', pi.latest_charge, '--reason', 'fraudulent'], { stdio: 'pipe' }));
  assert.throws(() => tender(['dispute', 'open', '--data', env.dataDir, '--charge', 'ch_nope', '--reason', 'fraudulent'], { stdio: 'pipe' }));
  assert.deepEqual((await stripe.events.list({ type: 'charge.dispute.created', limit: 100 })).data
    .filter((e) => e.data.object.id === d.id).length, 1);
});

test('webhook endpoints accept the charge.dispute.* events', async () => {
  const we = await stripe.webhookEndpoints.create({
    url: 'https://example.com/hook',
    enabled_events: ['charge.dispute.created', 'charge.dispute.updated', 'charge.dispute.closed',
      'charge.dispute.funds_withdrawn', 'charge.dispute.funds_reinstated'],
  });
  assert.equal(we.enabled_events.length, 5);
  await stripe.webhookEndpoints.del(we.id);
});

test('lists: pagination and created filters', async () => {
  const all = (await stripe.disputes.list({ limit: 100 })).data;
  assert.ok(all.length >= 4);
  const page = await stripe.disputes.list({ limit: 2 });
  assert.equal(page.data.length, 2);
  assert.equal(page.has_more, true);
  const next = await stripe.disputes.list({ limit: 2, starting_after: page.data[1].id });
  assert.notEqual(next.data[0].id, page.data[1].id);
  const none = await stripe.disputes.list({ created: { gt: all[0].created + 1000 } });
  assert.deepEqual(none.data, []);
  const ids = [];
  for await (const d of stripe.disputes.list({ limit: 2 })) ids.push(d.id);
  assert.deepEqual(ids, all.map((d) => d.id));
});

test('legacy /v1/charges/{charge}/dispute: retrieve, update and close the charge\'s dispute', async () => {
  const pi = await pay(stripe, 'pm_card_visa', 1500);
  const ch = pi.latest_charge;
  // no dispute yet: Stripe's 404
  await assert.rejects(stripe.rawRequest('GET', `/v1/charges/${ch}/dispute`), (e) => e.statusCode === 404 && e.code === 'resource_missing');
  await assert.rejects(stripe.rawRequest('POST', `/v1/charges/${ch}/dispute/close`, {}), (e) => e.statusCode === 404 && e.code === 'resource_missing');
  await assert.rejects(stripe.rawRequest('GET', '/v1/charges/ch_nope/dispute'), (e) => e.statusCode === 404 && e.param === 'charge');
  const opened = JSON.parse(tender(['dispute', 'open', '--data', env.dataDir, '--charge', ch, '--reason', 'fraudulent']));
  const d = await stripe.rawRequest('GET', `/v1/charges/${ch}/dispute`);
  assert.equal(d.id, opened.id);
  assert.equal(d.charge, ch);
  assertStripeShape(d, 'dispute');
  assert.equal(JSON.stringify(d), JSON.stringify(await stripe.disputes.retrieve(d.id)));
  const ex = await stripe.rawRequest('GET', `/v1/charges/${ch}/dispute?expand[]=charge`);
  assert.equal(ex.charge.id, ch);
  // an update as POST /v1/disputes/{id}: staged evidence, metadata; a key replays it
  const h = { 'Idempotency-Key': `legacy-dp-${d.id}` };
  const body = 'evidence[product_description]=a%20mug&submit=false&metadata[k]=v';
  const a = await env.request({ method: 'POST', path: `/v1/charges/${ch}/dispute`, key: env.merchant.secret_key, headers: h, body });
  const b = await env.request({ method: 'POST', path: `/v1/charges/${ch}/dispute`, key: env.merchant.secret_key, headers: h, body });
  assert.equal(a.status, 200);
  assert.equal(b.body, a.body);
  assert.equal(b.headers['idempotent-replayed'], 'true');
  assert.equal(a.json.status, 'needs_response');
  assert.equal(a.json.evidence.product_description, 'a mug');
  assert.deepEqual(a.json.metadata, { k: 'v' });
  assertStripeShape(a.json, 'dispute');
  await assert.rejects(stripe.rawRequest('POST', `/v1/charges/${ch}/dispute`, { evidence: { nope: 'x' } }), (e) => e.statusCode === 400 && e.code === 'parameter_unknown');
  // another merchant sees neither the charge nor its dispute
  await assert.rejects(stripe1.rawRequest('GET', `/v1/charges/${ch}/dispute`), (e) => e.statusCode === 404);
  await assert.rejects(stripe1.rawRequest('POST', `/v1/charges/${ch}/dispute/close`, {}), (e) => e.statusCode === 404);
  assert.equal((await stripe.disputes.retrieve(d.id)).status, 'needs_response');
  // close: as POST /v1/disputes/{id}/close, with its events
  const closed = await stripe.rawRequest('POST', `/v1/charges/${ch}/dispute/close`, {});
  assert.equal(closed.id, d.id);
  assert.equal(closed.status, 'lost');
  assertStripeShape(closed, 'dispute');
  await assert.rejects(stripe.rawRequest('POST', `/v1/charges/${ch}/dispute/close`, {}), (e) => e.statusCode === 400);
  const types = await eventTypes(stripe, d.id);
  assert.deepEqual(types.slice(-2), ['charge.dispute.updated', 'charge.dispute.closed']);
});

test('tender verify passes; merchant show reports the dispute rate above 1 %', async () => {
  const out = tender(['verify', '--data', env.dataDir]);
  assert.match(out, /verify: ok/);
  const shown = JSON.parse(tender(['merchant', 'show', '--data', env.dataDir, env.merchant.id], { stdio: ['ignore', 'pipe', 'pipe'] }));
  assert.equal(shown.id, env.merchant.id);
  assert.equal(shown.disputes.window, 'all_time');
  assert.ok(shown.disputes.count >= 4, JSON.stringify(shown));
  assert.ok(shown.disputes.charges >= shown.disputes.count);
  assert.ok(Number(shown.disputes.rate_percent) > 1);
  assert.equal(shown.disputes.threshold_percent, '1.00');
  assert.equal(shown.disputes.above_threshold, true);
});
