'use strict';
// iDEAL and Bancontact (ideal, bancontact), and the buy-now-pay-later Affirm, Afterpay / Clearpay
// and Klarna (with manual capture), through stripe-node: PaymentMethods, PaymentIntents
// that wait in requires_action with next_action redirect_to_url, and Tender's hosted test page
// (standing in for the bank, as Stripe's test redirect page does) driven with plain HTTP from
// node, following its forms: authorize books the charge (ledger, balance transaction, events)
// and sends the browser back to return_url; fail sends the intent back to
// requires_payment_method. Refunds, cancel, the refusals, and the page's secrecy. Then iDEAL and
// Bancontact in Checkout Sessions and payment links, paid on the checkout page in headless
// Chromium (Debian's chromium + playwright-core): the bank's test page, success_url, a failure
// then a card on the same session.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { startTender, assertStripeShape, stopAll, tender, waitFor, launchChromium, startShop, invoiceLatestPi } = require('./helpers');

let browser; // launched by the first checkout test
let shop; // success_url and cancel_url answer here
let shopPort;

let env;
let stripe; // merchant 0
let other; // merchant 1
const RETURN = 'https://shop.example/return?order=42';

before(async () => {
  env = await startTender({ merchants: 2 });
  stripe = env.stripe();
  other = env.stripe(env.merchants[1].secret_key);
});
after(async () => {
  if (browser) await browser.close();
  if (shop) shop.close();
  await stopAll();
});

async function eventsOf(id, client = stripe) {
  const ev = await client.events.list({ limit: 100 });
  return ev.data.filter((e) => e.data.object.id === id).map((e) => e.type).reverse();
}

// Stripe's price of each method (src/ledger/ledger.c's table, README "Money"), for this usd
// merchant: iDEAL €0.29 and Bancontact €0.35 (euro prices, converted at the charge's rate),
// Klarna 5.99 % + 30, Affirm and Afterpay 6 % + 30; a charge converted into usd pays 1 % more,
// the percentages rounded once, half up. By hand: Affirm 6000 usd → 360 + 30 = 390; Klarna
// 25.00 eur at 1.0823 (say) = 2706 cents → 6.99 % = 189.15 → 189, + 30 = 219.
function expectedFee(type, bt) {
  const pct = (bps) => Math.floor((bt.amount * bps + 5000) / 10000);
  const conv = bt.exchange_rate === null ? 0 : 100;
  if (type === 'ideal' || type === 'bancontact') return Math.round((type === 'ideal' ? 29 : 35) * bt.exchange_rate) + pct(conv);
  return pct((type === 'klarna' ? 599 : 600) + conv) + 30;
}
function assertFee(type, bt) {
  assert.equal(bt.fee, expectedFee(type, bt), `${type} fee`);
  assert.equal(bt.net, bt.amount - bt.fee);
  assert.deepEqual(bt.fee_details, [{ amount: bt.fee, application: null, currency: bt.currency, description: 'Stripe processing fees', type: 'stripe_fee' }]);
}

function pmOf(type) {
  return type === 'ideal'
    ? stripe.paymentMethods.create({ type: 'ideal', ideal: { bank: 'ing' }, billing_details: { name: 'Jenny Rosen' } })
    : stripe.paymentMethods.create({ type: 'bancontact', billing_details: { name: 'Jenny Rosen' } });
}

// an intent confirmed with a new PaymentMethod of type: requires_action, its page's URL checked
async function redirected(type, extra = {}) {
  const pm = await pmOf(type);
  const pi = await stripe.paymentIntents.create({
    amount: 2500, currency: 'eur', payment_method_types: [type], payment_method: pm.id, confirm: true,
    return_url: RETURN, ...extra,
  });
  assert.equal(pi.status, 'requires_action');
  assert.equal(pi.payment_method, pm.id);
  assert.equal(pi.next_action.type, 'redirect_to_url');
  assert.equal(pi.next_action.redirect_to_url.return_url, RETURN);
  assert.match(pi.next_action.redirect_to_url.url, /^http:\/\/127\.0\.0\.1:\d+\/redirect\/acct_\w+\/pi_\w+\/[A-Za-z0-9]{32}$/);
  assertStripeShape(pi, 'payment_intent');
  return pi;
}

// The page as a browser sees it, and the action its button posts to (read from the form).
async function openPage(pi, amount = /25\.00 EUR/) {
  const page = await env.request({ path: new URL(pi.next_action.redirect_to_url.url).pathname });
  assert.equal(page.status, 200);
  assert.match(page.headers['content-security-policy'], /default-src 'none'/);
  assert.match(page.body, amount);
  const forms = {};
  for (const m of page.body.matchAll(/<form method="post" action="([^"]+)"><button[^>]*>([^<]+)<\/button>/g)) forms[m[2]] = m[1];
  assert.ok(forms['Authorize test payment'], page.body);
  assert.ok(forms['Fail test payment'], page.body);
  return { page, forms };
}

function post(action) {
  return env.request({ method: 'POST', path: action, body: '' });
}

// the redirect back to the shop: 303 to return_url with Stripe's query parameters
function assertReturn(resp, pi, status) {
  assert.equal(resp.status, 303);
  const url = new URL(resp.headers.location);
  assert.equal(`${url.origin}${url.pathname}`, 'https://shop.example/return');
  assert.equal(url.searchParams.get('order'), '42');
  assert.equal(url.searchParams.get('payment_intent'), pi.id);
  assert.equal(url.searchParams.get('payment_intent_client_secret'), pi.client_secret);
  assert.equal(url.searchParams.get('redirect_status'), status);
}

test('ideal and bancontact PaymentMethods: every field of the spec, bank and BIC, refusals, not another merchant\'s, not a Charges API source', async () => {
  const ideal = await pmOf('ideal');
  assert.equal(ideal.type, 'ideal');
  assert.deepEqual(ideal.ideal, { bank: 'ing', bic: 'INGBNL2A' });
  assert.equal(ideal.card, undefined);
  assert.equal(ideal.billing_details.name, 'Jenny Rosen');
  assertStripeShape(ideal, 'payment_method');
  const noBank = await stripe.paymentMethods.create({ type: 'ideal' });
  assert.deepEqual(noBank.ideal, { bank: null, bic: null });
  assertStripeShape(noBank, 'payment_method');
  const rabo = await stripe.paymentMethods.create({ type: 'ideal', ideal: { bank: 'rabobank' } });
  assert.deepEqual((await stripe.paymentMethods.retrieve(rabo.id)).ideal, { bank: 'rabobank', bic: 'RABONL2U' });
  const bc = await pmOf('bancontact');
  assert.equal(bc.type, 'bancontact');
  assert.deepEqual(bc.bancontact, {});
  assertStripeShape(bc, 'payment_method');
  assertStripeShape(await stripe.paymentMethods.retrieve(bc.id), 'payment_method');
  // refusals change nothing
  await assert.rejects(stripe.paymentMethods.create({ type: 'ideal', ideal: { bank: 'nobank' } }),
    (e) => e.statusCode === 400 && e.param === 'ideal[bank]');
  await assert.rejects(stripe.paymentMethods.create({ type: 'bancontact', ideal: { bank: 'ing' } }),
    (e) => e.statusCode === 400 && e.param === 'ideal');
  await assert.rejects(stripe.paymentMethods.create({ type: 'ideal', card: { number: '4242424242424242', exp_month: 12, exp_year: 2034 } }),
    (e) => e.statusCode === 400 && e.param === 'card');
  // another merchant cannot see them
  await assert.rejects(other.paymentMethods.retrieve(ideal.id), (e) => e.statusCode === 404);
  // a redirect PaymentMethod is no card: the Charges API refuses it
  await assert.rejects(stripe.charges.create({ amount: 1000, currency: 'eur', source: ideal.id }),
    (e) => e.statusCode === 400 && e.param === 'source');
});

for (const type of ['ideal', 'bancontact']) {
  test(`${type}: confirm -> requires_action, authorize on the page -> succeeded with charge, ledger, events, return redirect`, async () => {
    const before = await stripe.balance.retrieve();
    const pi = await redirected(type, { description: `${type} order` });
    assert.equal(pi.latest_charge, null);
    assert.equal(pi.amount_received, 0);
    assert.equal(pi.payment_method_options[type] !== undefined, true);
    const { page, forms } = await openPage(pi);
    assert.match(page.body, type === 'ideal' ? /iDEAL test payment/ : /Bancontact test payment/);
    if (type === 'ideal') assert.match(page.body, /ING/);

    const resp = await post(forms['Authorize test payment']);
    assertReturn(resp, pi, 'succeeded');

    const done = await stripe.paymentIntents.retrieve(pi.id, { expand: ['latest_charge.balance_transaction'] });
    assert.equal(done.status, 'succeeded');
    assert.equal(done.amount_received, 2500);
    assert.equal(done.next_action, null);
    assert.equal(done.last_payment_error, null);
    const ch = done.latest_charge;
    assert.match(ch.id, /^py_/); // a non-card payment's charge, as on Stripe
    assert.equal(ch.status, 'succeeded');
    assert.equal(ch.paid, true);
    assert.equal(ch.captured, true);
    assert.equal(ch.amount_captured, 2500);
    assert.equal(ch.payment_method, pi.payment_method);
    assert.equal(ch.description, `${type} order`);
    assert.equal(ch.billing_details.name, 'Jenny Rosen');
    assert.equal(ch.payment_method_details.type, type);
    if (type === 'ideal') {
      assert.deepEqual(ch.payment_method_details.ideal, {
        bank: 'ing', bic: 'INGBNL2A', generated_sepa_debit: null, generated_sepa_debit_mandate: null,
        iban_last4: '5264', verified_name: 'Jenny Rosen',
      });
    } else {
      assert.deepEqual(ch.payment_method_details.bancontact, {
        bank_code: 'VAPE', bank_name: 'VAN DE PUT & CO', bic: 'VAPEBE22', generated_sepa_debit: null,
        generated_sepa_debit_mandate: null, iban_last4: '7061', preferred_language: 'en', verified_name: 'Jenny Rosen',
      });
    }
    const bt = ch.balance_transaction;
    assert.match(bt.id, /^txn_/);
    assert.equal(bt.source, ch.id);
    assert.equal(bt.type, 'charge');
    assert.ok(bt.fee > 0);
    assert.equal(bt.exchange_rate > 0, true, 'eur converted for this usd merchant');
    assertFee(type, bt);
    assertStripeShape({ ...ch, balance_transaction: bt.id }, 'charge');
    assertStripeShape(bt, 'balance_transaction');
    assertStripeShape({ ...done, latest_charge: ch.id }, 'payment_intent');
    // money conserved: the balance grew by exactly the transaction's net
    const after = await stripe.balance.retrieve();
    const sum = (b) => [...b.pending, ...b.available].filter((x) => x.currency === bt.currency).reduce((a, x) => a + x.amount, 0);
    assert.equal(sum(after) - sum(before), bt.net);
    assert.deepEqual(await eventsOf(pi.id),
      ['payment_intent.created', 'payment_intent.requires_action', 'payment_intent.succeeded']);
    assert.deepEqual(await eventsOf(ch.id), ['charge.succeeded']);

    // a second click, a replayed POST, or the other button: nothing more changes
    assertReturn(await post(forms['Authorize test payment']), pi, 'succeeded');
    assertReturn(await post(forms['Fail test payment']), pi, 'succeeded');
    const again = await stripe.paymentIntents.retrieve(pi.id);
    assert.equal(again.status, 'succeeded');
    assert.equal(again.latest_charge, ch.id);
    assert.equal((await stripe.charges.list({ payment_intent: pi.id })).data.length, 1);
    assert.deepEqual(await eventsOf(pi.id),
      ['payment_intent.created', 'payment_intent.requires_action', 'payment_intent.succeeded']);
    // the page now only says it is done
    const later = await env.request({ path: new URL(pi.next_action.redirect_to_url.url).pathname });
    assert.equal(later.status, 200);
    assert.doesNotMatch(later.body, /<form/);
  });

  test(`${type}: fail on the page -> requires_payment_method with last_payment_error, then pays with a new PaymentMethod`, async () => {
    const pi = await redirected(type);
    const { forms } = await openPage(pi);
    assertReturn(await post(forms['Fail test payment']), pi, 'failed');
    const failed = await stripe.paymentIntents.retrieve(pi.id);
    assert.equal(failed.status, 'requires_payment_method');
    assert.equal(failed.payment_method, null);
    assert.equal(failed.next_action, null);
    assert.equal(failed.latest_charge, null);
    assert.equal(failed.last_payment_error.code, 'payment_intent_payment_attempt_failed');
    assert.equal(failed.last_payment_error.type, 'invalid_request_error');
    assert.equal(failed.last_payment_error.payment_method.id, pi.payment_method);
    assert.equal(failed.last_payment_error.payment_method.type, type);
    assertStripeShape(failed, 'payment_intent');
    assert.deepEqual(await eventsOf(pi.id),
      ['payment_intent.created', 'payment_intent.requires_action', 'payment_intent.payment_failed']);
    // replays change nothing: still failed, no charge
    assertReturn(await post(forms['Authorize test payment']), pi, 'failed');
    assert.equal((await stripe.paymentIntents.retrieve(pi.id)).status, 'requires_payment_method');
    assert.equal((await stripe.charges.list({ payment_intent: pi.id })).data.length, 0);

    // confirmed again with a new PaymentMethod: a new page; the old link opens nothing
    const pm2 = await pmOf(type);
    const re = await stripe.paymentIntents.confirm(pi.id, { payment_method: pm2.id });
    assert.equal(re.status, 'requires_action');
    assert.notEqual(re.next_action.redirect_to_url.url, pi.next_action.redirect_to_url.url);
    const stale = await post(forms['Authorize test payment']);
    assert.equal(stale.status, 404);
    const { forms: forms2 } = await openPage(re);
    assertReturn(await post(forms2['Authorize test payment']), re, 'succeeded');
    assert.equal((await stripe.paymentIntents.retrieve(pi.id)).status, 'succeeded');
  });
}

test('refunds of ideal and bancontact payments: partial then full, like a card', async () => {
  for (const type of ['ideal', 'bancontact']) {
    const pi = await redirected(type);
    const { forms } = await openPage(pi);
    assertReturn(await post(forms['Authorize test payment']), pi, 'succeeded');
    const chId = (await stripe.paymentIntents.retrieve(pi.id)).latest_charge;
    const r1 = await stripe.refunds.create({ payment_intent: pi.id, amount: 1000 });
    assert.equal(r1.status, 'succeeded');
    assert.equal(r1.amount, 1000);
    assert.equal(r1.charge, chId);
    assertStripeShape(r1, 'refund');
    let ch = await stripe.charges.retrieve(chId);
    assert.equal(ch.amount_refunded, 1000);
    assert.equal(ch.refunded, false);
    const r2 = await stripe.refunds.create({ charge: chId });
    assert.equal(r2.amount, 1500);
    ch = await stripe.charges.retrieve(chId);
    assert.equal(ch.refunded, true);
    assertStripeShape(ch, 'charge');
    await assert.rejects(stripe.refunds.create({ charge: chId }), (e) => e.statusCode === 400);
  }
});

test('cancel while requires_action: canceled, and the page opens nothing', async () => {
  const pi = await redirected('ideal');
  const { forms } = await openPage(pi);
  const canceled = await stripe.paymentIntents.cancel(pi.id);
  assert.equal(canceled.status, 'canceled');
  assert.equal(canceled.next_action, null);
  assertStripeShape(canceled, 'payment_intent');
  assert.equal((await post(forms['Authorize test payment'])).status, 404);
  assert.equal((await post(forms['Fail test payment'])).status, 404);
  assert.equal((await env.request({ path: new URL(pi.next_action.redirect_to_url.url).pathname })).status, 404);
  const after = await stripe.paymentIntents.retrieve(pi.id);
  assert.equal(after.status, 'canceled');
  assert.equal(after.latest_charge, null);
});

test('the page is secret: a wrong token or another merchant in the URL opens nothing', async () => {
  const pi = await redirected('bancontact');
  const url = new URL(pi.next_action.redirect_to_url.url);
  const [, , acct, piId, token] = url.pathname.split('/');
  const wrongToken = `/redirect/${acct}/${piId}/${token.slice(0, 31)}${token[31] === 'a' ? 'b' : 'a'}`;
  const wrongAcct = `/redirect/${env.merchants[1].id}/${piId}/${token}`;
  for (const p of [wrongToken, wrongAcct]) {
    assert.equal((await env.request({ path: p })).status, 404);
    assert.equal((await post(`${p}/authorize`)).status, 404);
    assert.equal((await post(`${p}/fail`)).status, 404);
  }
  assert.equal((await stripe.paymentIntents.retrieve(pi.id)).status, 'requires_action');
  await assert.rejects(other.paymentIntents.retrieve(pi.id), (e) => e.statusCode === 404);
});

test('payment_method_data[type]=ideal on create and on confirm', async () => {
  const pi = await stripe.paymentIntents.create({
    amount: 2500, currency: 'eur', payment_method_types: ['ideal'], confirm: true, return_url: RETURN,
    payment_method_data: { type: 'ideal', ideal: { bank: 'abn_amro' }, billing_details: { name: 'Jenny Rosen' } },
  });
  assert.equal(pi.status, 'requires_action');
  const pm = await stripe.paymentMethods.retrieve(pi.payment_method);
  assert.deepEqual(pm.ideal, { bank: 'abn_amro', bic: 'ABNANL2A' });
  const pi2 = await stripe.paymentIntents.create({ amount: 2500, currency: 'eur', payment_method_types: ['card', 'bancontact'] });
  assert.deepEqual(pi2.payment_method_types, ['card', 'bancontact']);
  assertStripeShape(pi2, 'payment_intent');
  const c = await stripe.paymentIntents.confirm(pi2.id, {
    payment_method_data: { type: 'bancontact', billing_details: { name: 'Jenny Rosen' } }, return_url: RETURN,
  });
  assert.equal(c.status, 'requires_action');
  assert.equal((await stripe.paymentMethods.retrieve(c.payment_method)).type, 'bancontact');
});

test('refusals: currency, manual capture, missing return_url, a type the intent does not allow', async () => {
  const pm = await pmOf('ideal');
  // eur only
  await assert.rejects(stripe.paymentIntents.create({ amount: 2500, currency: 'usd', payment_method_types: ['ideal'] }),
    (e) => e.statusCode === 400 && e.param === 'payment_method_types' && /eur/.test(e.message));
  // automatic capture only
  await assert.rejects(stripe.paymentIntents.create({ amount: 2500, currency: 'eur', payment_method_types: ['bancontact'], capture_method: 'manual' }),
    (e) => e.statusCode === 400 && e.param === 'capture_method');
  // a return_url is needed to confirm; nothing is recorded without it
  const pi = await stripe.paymentIntents.create({ amount: 2500, currency: 'eur', payment_method_types: ['ideal'] });
  await assert.rejects(stripe.paymentIntents.confirm(pi.id, { payment_method: pm.id }),
    (e) => e.statusCode === 400 && e.param === 'return_url'
      && e.message === 'You must provide a `return_url` when confirming a PaymentIntent with the payment method type ideal.');
  const still = await stripe.paymentIntents.retrieve(pi.id);
  assert.equal(still.status, 'requires_payment_method');
  assert.equal(still.payment_method, null);
  // a card-only intent refuses an ideal PaymentMethod
  const cardOnly = await stripe.paymentIntents.create({ amount: 2500, currency: 'eur' });
  await assert.rejects(stripe.paymentIntents.confirm(cardOnly.id, { payment_method: pm.id, return_url: RETURN }),
    (e) => e.statusCode === 400 && e.param === 'payment_method');
  assert.deepEqual(await eventsOf(pi.id), ['payment_intent.created']);
});

test('setup_future_usage=off_session: the payment generates a sepa_debit PaymentMethod with a multi-use mandate, which then pays off session', async () => {
  for (const [type, last4, country] of [['ideal', '5264', 'NL'], ['bancontact', '7061', 'BE']]) {
    const cus = await stripe.customers.create({ email: `${type}@example.com` });
    const pi = await redirected(type, { customer: cus.id, setup_future_usage: 'off_session' });
    assert.equal(pi.setup_future_usage, 'off_session');
    const { forms } = await openPage(pi);
    assertReturn(await post(forms['Authorize test payment']), pi, 'succeeded');
    const done = await stripe.paymentIntents.retrieve(pi.id, { expand: ['latest_charge'] });
    assert.equal(done.status, 'succeeded');
    const details = done.latest_charge.payment_method_details[type];
    assert.match(details.generated_sepa_debit, /^pm_/);
    assert.match(details.generated_sepa_debit_mandate, /^mandate_/);
    assert.equal(details.iban_last4, last4);
    assertStripeShape(done.latest_charge, 'charge');
    // the generated PaymentMethod: the bank's account, saved on the customer
    const gen = await stripe.paymentMethods.retrieve(details.generated_sepa_debit);
    assert.equal(gen.type, 'sepa_debit');
    assert.equal(gen.sepa_debit.last4, last4);
    assert.equal(gen.sepa_debit.country, country);
    assert.equal(gen.customer, cus.id);
    assert.equal(gen.billing_details.name, 'Jenny Rosen');
    assertStripeShape(gen, 'payment_method');
    const mandate = await stripe.mandates.retrieve(details.generated_sepa_debit_mandate);
    assert.equal(mandate.type, 'multi_use');
    assert.equal(mandate.status, 'active');
    assert.equal(mandate.payment_method, gen.id);
    assert.equal(mandate.customer_acceptance.type, 'online');
    assertStripeShape(mandate, 'mandate');
    assert.deepEqual(await eventsOf(gen.id), ['payment_method.attached']);
    // the ideal / bancontact PaymentMethod itself stays single-use, unattached
    assert.equal((await stripe.paymentMethods.retrieve(pi.payment_method)).customer, null);
    // it pays off session through the SEPA path, settled by the scheduler
    let next = await stripe.paymentIntents.create({
      amount: 1500, currency: 'eur', customer: cus.id, payment_method: gen.id, payment_method_types: ['sepa_debit'],
      off_session: true, confirm: true,
    });
    assert.equal(next.status, 'processing');
    next = await waitFor(async () => {
      const x = await stripe.paymentIntents.retrieve(next.id);
      return x.status !== 'processing' && x;
    }, 'the off-session SEPA debit to settle', 20000);
    assert.equal(next.status, 'succeeded');
    const debit = await stripe.charges.retrieve(next.latest_charge);
    assert.equal(debit.payment_method_details.sepa_debit.mandate, mandate.id);
  }
  // on_session is refused (Stripe saves these methods for off-session use only)
  const pm = await pmOf('ideal');
  await assert.rejects(stripe.paymentIntents.create({
    amount: 2500, currency: 'eur', payment_method_types: ['ideal'], payment_method: pm.id, confirm: true,
    return_url: RETURN, setup_future_usage: 'on_session',
  }), (e) => e.statusCode === 400 && e.param === 'setup_future_usage');
});

// ---- SetupIntents: saving a SEPA Direct Debit account through iDEAL / Bancontact ----

const MANDATE_ONLINE = { customer_acceptance: { type: 'online', online: { ip_address: '203.0.113.7', user_agent: 'Mozilla/5.0 (test)' } } };

// the redirect back to the shop after a SetupIntent's page
function assertSetupReturn(resp, si, status) {
  assert.equal(resp.status, 303);
  const url = new URL(resp.headers.location);
  assert.equal(`${url.origin}${url.pathname}`, 'https://shop.example/return');
  assert.equal(url.searchParams.get('setup_intent'), si.id);
  assert.equal(url.searchParams.get('setup_intent_client_secret'), si.client_secret);
  assert.equal(url.searchParams.get('redirect_status'), status);
  assert.equal(url.searchParams.get('payment_intent'), null);
}

function assertSetupRedirected(si, pmId) {
  assert.equal(si.status, 'requires_action');
  if (pmId) assert.equal(si.payment_method, pmId);
  assert.equal(si.next_action.type, 'redirect_to_url');
  assert.equal(si.next_action.redirect_to_url.return_url, RETURN);
  assert.match(si.next_action.redirect_to_url.url, /^http:\/\/127\.0\.0\.1:\d+\/redirect\/acct_\w+\/seti_\w+\/[A-Za-z0-9]{32}$/);
  assertStripeShape(si, 'setup_intent');
}

test('SetupIntent with iDEAL: requires_action, authorized at the bank -> succeeded; the generated sepa_debit on the customer with its multi-use mandate pays off session; replays change nothing', async () => {
  const cus = await stripe.customers.create({ email: 'seti-ideal@example.com' });
  const created = await stripe.setupIntents.create({ customer: cus.id, payment_method_types: ['ideal'] });
  assert.deepEqual(created.payment_method_types, ['ideal']);
  assertStripeShape(created, 'setup_intent');
  const si = await stripe.setupIntents.confirm(created.id, {
    payment_method_data: { type: 'ideal', ideal: { bank: 'ing' }, billing_details: { name: 'Jenny Rosen', email: 'jenny@example.com' } },
    mandate_data: MANDATE_ONLINE, return_url: RETURN,
  });
  assertSetupRedirected(si);
  assert.match(si.payment_method, /^pm_/);
  // the attempt waits at the bank: the account is not known yet
  let attempts = await stripe.setupAttempts.list({ setup_intent: si.id });
  assert.equal(attempts.data.length, 1);
  assert.equal(attempts.data[0].id, si.latest_attempt);
  assert.equal(attempts.data[0].status, 'requires_action');
  assert.deepEqual(attempts.data[0].payment_method_details, {
    type: 'ideal',
    ideal: { bank: 'ing', bic: 'INGBNL2A', generated_sepa_debit: null, generated_sepa_debit_mandate: null, iban_last4: null, verified_name: null },
  });
  assertStripeShape(attempts.data[0], 'setup_attempt');
  // the bank's page: no amount, the same buttons
  const { page, forms } = await openPage(si, /iDEAL test payment/);
  assert.doesNotMatch(page.body, /Amount/);
  assert.match(page.body, /ING/);
  assertSetupReturn(await post(forms['Authorize test payment']), si, 'succeeded');
  const done = await stripe.setupIntents.retrieve(si.id, { expand: ['latest_attempt'] });
  assert.equal(done.status, 'succeeded');
  assert.equal(done.next_action, null);
  assert.equal(done.last_setup_error, null);
  assert.equal(done.payment_method, si.payment_method); // the ideal one, as on Stripe
  const att = done.latest_attempt;
  assert.equal(att.status, 'succeeded');
  assert.equal(att.payment_method, si.payment_method);
  assert.equal(att.customer, cus.id);
  assert.equal(att.setup_error, null);
  const details = att.payment_method_details.ideal;
  assert.equal(att.payment_method_details.type, 'ideal');
  assert.equal(details.bank, 'ing');
  assert.equal(details.bic, 'INGBNL2A');
  assert.equal(details.iban_last4, '5264');
  assert.equal(details.verified_name, 'Jenny Rosen');
  assert.match(details.generated_sepa_debit, /^pm_/);
  assert.match(details.generated_sepa_debit_mandate, /^mandate_/);
  assert.equal(done.mandate, details.generated_sepa_debit_mandate);
  assertStripeShape(att, 'setup_attempt');
  assertStripeShape(await stripe.setupIntents.retrieve(si.id), 'setup_intent');
  // the generated PaymentMethod: the bank's account, saved on the customer
  const gen = await stripe.paymentMethods.retrieve(details.generated_sepa_debit);
  assert.equal(gen.type, 'sepa_debit');
  assert.equal(gen.sepa_debit.last4, '5264');
  assert.equal(gen.sepa_debit.country, 'NL');
  assert.equal(gen.customer, cus.id);
  assert.equal(gen.billing_details.name, 'Jenny Rosen');
  assertStripeShape(gen, 'payment_method');
  const mandate = await stripe.mandates.retrieve(done.mandate);
  assert.equal(mandate.type, 'multi_use');
  assert.equal(mandate.status, 'active');
  assert.equal(mandate.payment_method, gen.id);
  // accepted as the confirmation's mandate_data says
  assert.deepEqual(mandate.customer_acceptance.online, MANDATE_ONLINE.customer_acceptance.online);
  assert.equal(mandate.customer_acceptance.type, 'online');
  assertStripeShape(mandate, 'mandate');
  assert.deepEqual(await eventsOf(gen.id), ['payment_method.attached']);
  assert.deepEqual(await eventsOf(si.id), ['setup_intent.created', 'setup_intent.requires_action', 'setup_intent.succeeded']);
  // the ideal PaymentMethod itself stays single-use, unattached
  assert.equal((await stripe.paymentMethods.retrieve(si.payment_method)).customer, null);
  // a second click, the other button, a replayed POST: the same answer, nothing changes
  assertSetupReturn(await post(forms['Authorize test payment']), si, 'succeeded');
  assertSetupReturn(await post(forms['Fail test payment']), si, 'succeeded');
  assert.deepEqual(await eventsOf(si.id), ['setup_intent.created', 'setup_intent.requires_action', 'setup_intent.succeeded']);
  const saved = await stripe.paymentMethods.list({ customer: cus.id, type: 'sepa_debit' });
  assert.deepEqual(saved.data.map((p) => p.id), [gen.id]);
  attempts = await stripe.setupAttempts.list({ setup_intent: si.id });
  assert.deepEqual(attempts.data.map((a) => a.status), ['succeeded']);
  // confirming a succeeded SetupIntent again is refused
  await assert.rejects(stripe.setupIntents.confirm(si.id, { return_url: RETURN, mandate_data: MANDATE_ONLINE }),
    (e) => e.statusCode === 400 && e.code === 'setup_intent_unexpected_state');
  // it pays off session through the SEPA path, settled by the scheduler
  let next = await stripe.paymentIntents.create({
    amount: 1500, currency: 'eur', customer: cus.id, payment_method: gen.id, payment_method_types: ['sepa_debit'],
    off_session: true, confirm: true,
  });
  assert.equal(next.status, 'processing');
  assertStripeShape(next, 'payment_intent');
  next = await waitFor(async () => {
    const x = await stripe.paymentIntents.retrieve(next.id);
    return x.status !== 'processing' && x;
  }, 'the off-session SEPA debit to settle', 20000);
  assert.equal(next.status, 'succeeded');
  const debit = await stripe.charges.retrieve(next.latest_charge);
  assert.equal(debit.payment_method_details.sepa_debit.mandate, mandate.id);
});

test('SetupIntent with Bancontact: failed at the bank -> requires_payment_method with last_setup_error; confirmed again -> a new page, the old link opens nothing; cancel while requires_action', async () => {
  const cus = await stripe.customers.create({ email: 'seti-bancontact@example.com' });
  const si = await stripe.setupIntents.create({
    customer: cus.id, payment_method_types: ['bancontact', 'card'], confirm: true, return_url: RETURN,
    payment_method_data: { type: 'bancontact', billing_details: { name: 'Jenny Rosen' } }, mandate_data: MANDATE_ONLINE,
  });
  assertSetupRedirected(si);
  const { forms } = await openPage(si, /Bancontact test payment/);
  assertSetupReturn(await post(forms['Fail test payment']), si, 'failed');
  const failed = await stripe.setupIntents.retrieve(si.id, { expand: ['latest_attempt'] });
  assert.equal(failed.status, 'requires_payment_method');
  assert.equal(failed.payment_method, null);
  assert.equal(failed.next_action, null);
  assert.equal(failed.mandate, null);
  assert.equal(failed.last_setup_error.code, 'setup_intent_authentication_failure');
  assert.equal(failed.last_setup_error.payment_method.id, si.payment_method);
  assert.equal(failed.latest_attempt.status, 'failed');
  assert.equal(failed.latest_attempt.setup_error.code, 'setup_intent_authentication_failure');
  assert.equal(failed.latest_attempt.payment_method_details.type, 'bancontact');
  assert.equal(failed.latest_attempt.payment_method_details.bancontact.generated_sepa_debit, null);
  assert.equal(failed.latest_attempt.payment_method_details.bancontact.iban_last4, null);
  assertStripeShape(failed.latest_attempt, 'setup_attempt');
  assertStripeShape(await stripe.setupIntents.retrieve(si.id), 'setup_intent');
  const evs = ['setup_intent.created', 'setup_intent.requires_action', 'setup_intent.setup_failed'];
  assert.deepEqual(await eventsOf(si.id), evs);
  // replays: the failure stands, nothing is generated
  assertSetupReturn(await post(forms['Authorize test payment']), si, 'failed');
  assert.deepEqual(await eventsOf(si.id), evs);
  assert.equal((await stripe.paymentMethods.list({ customer: cus.id, type: 'sepa_debit' })).data.length, 0);
  assert.equal((await stripe.setupIntents.retrieve(si.id)).status, 'requires_payment_method');
  // confirmed again: a new page; the first one's link opens nothing
  const pm = await pmOf('bancontact');
  const again = await stripe.setupIntents.confirm(si.id, { payment_method: pm.id, mandate_data: MANDATE_ONLINE });
  assertSetupRedirected(again, pm.id); // return_url kept from the first confirmation
  assert.notEqual(again.next_action.redirect_to_url.url, si.next_action.redirect_to_url.url);
  assert.equal((await env.request({ path: new URL(si.next_action.redirect_to_url.url).pathname })).status, 404);
  const second = await openPage(again, /Bancontact test payment/);
  // confirmed a third time before answering: the second page opens nothing, its attempt abandoned
  const third = await stripe.setupIntents.confirm(si.id, { payment_method: pm.id, mandate_data: MANDATE_ONLINE });
  assertSetupRedirected(third, pm.id);
  assert.equal((await post(second.forms['Authorize test payment'])).status, 404);
  let attempts = await stripe.setupAttempts.list({ setup_intent: si.id });
  assert.deepEqual(attempts.data.map((a) => a.status), ['requires_action', 'abandoned', 'failed']);
  // cancel while requires_action: the page opens nothing
  const { forms: thirdForms } = await openPage(third, /Bancontact test payment/);
  const canceled = await stripe.setupIntents.cancel(si.id);
  assert.equal(canceled.status, 'canceled');
  assert.equal(canceled.next_action, null);
  assertStripeShape(canceled, 'setup_intent');
  assert.equal((await post(thirdForms['Authorize test payment'])).status, 404);
  assert.equal((await post(thirdForms['Fail test payment'])).status, 404);
  assert.equal((await env.request({ path: new URL(third.next_action.redirect_to_url.url).pathname })).status, 404);
  assert.equal((await stripe.setupIntents.retrieve(si.id)).status, 'canceled');
  attempts = await stripe.setupAttempts.list({ setup_intent: si.id });
  assert.deepEqual(attempts.data.map((a) => a.status), ['abandoned', 'abandoned', 'failed']);
  assert.equal((await stripe.paymentMethods.list({ customer: cus.id, type: 'sepa_debit' })).data.length, 0);
});

test('SetupIntent with iDEAL / Bancontact refusals: no return_url, no customer, no mandate_data, a type the intent does not allow, a lender\'s type; nothing changes', async () => {
  const cus = await stripe.customers.create({ email: 'seti-refusals@example.com' });
  const ideal = await pmOf('ideal');
  const noCustomer = await stripe.setupIntents.create({ payment_method_types: ['ideal'] });
  const withCustomer = await stripe.setupIntents.create({ customer: cus.id, payment_method_types: ['ideal'] });
  const cardOnly = await stripe.setupIntents.create({ customer: cus.id });
  const cases = [
    [withCustomer, { payment_method: ideal.id, mandate_data: MANDATE_ONLINE }, 'return_url'],
    [noCustomer, { payment_method: ideal.id, mandate_data: MANDATE_ONLINE, return_url: RETURN }, 'customer'],
    [withCustomer, { payment_method: ideal.id, return_url: RETURN }, 'mandate_data'],
    [withCustomer, { payment_method: ideal.id, mandate_data: MANDATE_ONLINE, return_url: 'shop.example/return' }, 'return_url'],
    [cardOnly, { payment_method: ideal.id, mandate_data: MANDATE_ONLINE, return_url: RETURN }, 'payment_method'],
  ];
  for (const [si, params, param] of cases) {
    await assert.rejects(stripe.setupIntents.confirm(si.id, params), (e) => e.statusCode === 400 && e.param === param, param);
    const after = await stripe.setupIntents.retrieve(si.id);
    assert.equal(after.status, 'requires_payment_method');
    assert.equal(after.next_action, null);
    assert.equal(after.latest_attempt, null);
    assert.deepEqual(await eventsOf(si.id), ['setup_intent.created']);
  }
  // payment_method_data: refused before its PaymentMethod is made
  const pmCount = async (type) => (await stripe.paymentMethods.list({ type, limit: 100 })).data.length;
  const ideals = await pmCount('ideal');
  const bancontacts = await pmCount('bancontact');
  for (const [si, params, param] of [
    [withCustomer, { mandate_data: MANDATE_ONLINE }, 'return_url'],
    [noCustomer, { mandate_data: MANDATE_ONLINE, return_url: RETURN }, 'customer'],
    [withCustomer, { return_url: RETURN }, 'mandate_data'],
    [cardOnly, { mandate_data: MANDATE_ONLINE, return_url: RETURN }, 'payment_method'],
  ]) {
    await assert.rejects(stripe.setupIntents.confirm(si.id, { payment_method_data: { type: 'ideal', ideal: { bank: 'ing' } }, ...params }),
      (e) => e.statusCode === 400 && e.param === param, param);
    assert.equal((await stripe.setupIntents.retrieve(si.id)).status, 'requires_payment_method');
  }
  assert.equal(await pmCount('ideal'), ideals);
  // create with confirm=true: refused before anything is made
  const before = (await stripe.setupIntents.list({ limit: 100 })).data.length;
  await assert.rejects(stripe.setupIntents.create({
    payment_method_types: ['bancontact'], confirm: true, return_url: RETURN, mandate_data: MANDATE_ONLINE,
    payment_method_data: { type: 'bancontact' },
  }), (e) => e.statusCode === 400 && e.param === 'customer');
  await assert.rejects(stripe.setupIntents.create({ customer: cus.id, payment_method_types: ['klarna'] }),
    (e) => e.statusCode === 400 && e.param === 'payment_method_types');
  assert.equal((await stripe.setupIntents.list({ limit: 100 })).data.length, before);
  assert.equal(await pmCount('bancontact'), bancontacts);
  assert.equal((await stripe.paymentMethods.list({ customer: cus.id, type: 'sepa_debit' })).data.length, 0);
});

// ---- buy now, pay later: affirm, afterpay_clearpay, klarna ----

const BILLING = {
  name: 'Jenny Rosen', email: 'jenny@example.com',
  address: { line1: '1 Main St', city: 'London', postal_code: 'N1 9GU', country: 'GB' },
};
const SHIPPING = { name: 'Jenny Rosen', address: { line1: '1 Main St', city: 'London', postal_code: 'N1 9GU', country: 'GB' } };
// each method in a currency it takes, with what its lender requires
const BNPL = {
  affirm: { currency: 'usd', amount: 6000, shown: /60\.00 USD/, title: /Affirm test payment/, details: {} },
  afterpay_clearpay: {
    currency: 'gbp', amount: 5000, shown: /50\.00 GBP/, title: /Clearpay test payment/, shipping: SHIPPING,
    details: { order_id: null, reference: null },
  },
  klarna: {
    currency: 'eur', amount: 2500, shown: /25\.00 EUR/, title: /Klarna test payment/, pmData: { klarna: { dob: { day: 1, month: 2, year: 1985 } } },
    details: { payment_method_category: 'pay_later', preferred_locale: null },
  },
};

// a BNPL intent made and confirmed in one request with payment_method_data: requires_action
async function bnplRedirected(type, extra = {}) {
  const c = BNPL[type];
  const pi = await stripe.paymentIntents.create({
    amount: c.amount, currency: c.currency, payment_method_types: [type], confirm: true, return_url: RETURN,
    payment_method_data: { type, billing_details: BILLING, ...(c.pmData || {}) }, ...(c.shipping ? { shipping: c.shipping } : {}), ...extra,
  });
  assert.equal(pi.status, 'requires_action');
  assert.equal(pi.next_action.type, 'redirect_to_url');
  assert.match(pi.next_action.redirect_to_url.url, /^http:\/\/127\.0\.0\.1:\d+\/redirect\/acct_\w+\/pi_\w+\/[A-Za-z0-9]{32}$/);
  assertStripeShape(pi, 'payment_intent');
  return pi;
}

const sumBalance = (b, cur) => [...b.pending, ...b.available].filter((x) => x.currency === cur).reduce((a, x) => a + x.amount, 0);
// every currency's total (pending and available): what a hold must leave as it was
const totals = (b) => Object.fromEntries([...new Set([...b.pending, ...b.available].map((x) => x.currency))].sort().map((c) => [c, sumBalance(b, c)]));

test('affirm, afterpay_clearpay and klarna PaymentMethods: their hashes, every field of the spec, listed by type', async () => {
  for (const type of Object.keys(BNPL)) {
    const pm = await stripe.paymentMethods.create({ type, billing_details: BILLING, metadata: { k: 'v' } });
    assert.equal(pm.type, type);
    assert.deepEqual(pm[type], type === 'klarna' ? { dob: null } : {});
    assert.equal(pm.card, undefined);
    assert.equal(pm.billing_details.email, 'jenny@example.com');
    assertStripeShape(pm, 'payment_method');
    const got = await stripe.paymentMethods.retrieve(pm.id);
    assert.deepEqual(got, pm);
    const listed = await stripe.paymentMethods.list({ type });
    assert.ok(listed.data.some((x) => x.id === pm.id));
  }
  await assert.rejects(stripe.paymentMethods.create({ type: 'klarna', ideal: { bank: 'ing' } }),
    (e) => e.statusCode === 400 && e.param === 'ideal');
  // klarna[dob]: kept and shown whole; refused when partial or not in the past
  const dob = await stripe.paymentMethods.create({ type: 'klarna', klarna: { dob: { day: 14, month: 3, year: 1990 } }, billing_details: BILLING });
  assert.deepEqual(dob.klarna, { dob: { day: 14, month: 3, year: 1990 } });
  assert.deepEqual((await stripe.paymentMethods.retrieve(dob.id)).klarna, dob.klarna);
  assertStripeShape(dob, 'payment_method');
  await assert.rejects(stripe.paymentMethods.create({ type: 'klarna', klarna: { dob: { day: 14, month: 3 } } }),
    (e) => e.statusCode === 400 && e.code === 'parameter_missing' && e.param === 'klarna[dob][year]');
  await assert.rejects(stripe.paymentMethods.create({ type: 'klarna', klarna: { dob: { day: 14, month: 13, year: 1990 } } }),
    (e) => e.statusCode === 400 && e.param === 'klarna[dob]');
  await assert.rejects(stripe.paymentMethods.create({ type: 'affirm', klarna: { dob: { day: 14, month: 3, year: 1990 } } }),
    (e) => e.statusCode === 400 && e.param === 'klarna');
  await assert.rejects(stripe.paymentMethods.create({ type: 'klarna', card: { number: '4242424242424242', exp_month: 12, exp_year: 2034 } }),
    (e) => e.statusCode === 400 && e.param === 'card');
  // no card: the Charges API refuses it
  const pm = await stripe.paymentMethods.create({ type: 'affirm' });
  await assert.rejects(stripe.charges.create({ amount: 6000, currency: 'usd', source: pm.id }),
    (e) => e.statusCode === 400 && e.param === 'source');
});

for (const type of Object.keys(BNPL)) {
  const c = BNPL[type];
  test(`${type}: confirm -> requires_action, authorize on the page -> succeeded with py_ charge, details, ledger, events`, async () => {
    const before = await stripe.balance.retrieve();
    const pi = await bnplRedirected(type, { description: `${type} order` });
    assert.ok(pi.payment_method_options[type]);
    const { page, forms } = await openPage(pi, c.shown);
    assert.match(page.body, c.title);
    assertReturn(await post(forms['Authorize test payment']), pi, 'succeeded');

    const done = await stripe.paymentIntents.retrieve(pi.id, { expand: ['latest_charge.balance_transaction'] });
    assert.equal(done.status, 'succeeded');
    assert.equal(done.amount_received, c.amount);
    assert.equal(done.amount_capturable, 0);
    const ch = done.latest_charge;
    assert.match(ch.id, /^py_/);
    assert.equal(ch.status, 'succeeded');
    assert.equal(ch.captured, true);
    assert.equal(ch.amount_captured, c.amount);
    assert.equal(ch.currency, c.currency);
    assert.equal(ch.description, `${type} order`);
    assert.equal(ch.billing_details.email, 'jenny@example.com');
    assert.deepEqual(ch.payment_method_details, { [type]: c.details, type });
    if (c.shipping) assert.equal(ch.shipping.name, 'Jenny Rosen');
    if (c.pmData) assert.deepEqual((await stripe.paymentMethods.retrieve(ch.payment_method))[type], c.pmData[type]);
    const bt = ch.balance_transaction;
    assert.equal(bt.source, ch.id);
    assert.equal(bt.type, 'charge');
    assertFee(type, bt);
    if (type === 'affirm') assert.equal(bt.fee, 390); // 6000 usd, not converted: 360 + 30
    assertStripeShape({ ...ch, balance_transaction: bt.id }, 'charge');
    assertStripeShape(bt, 'balance_transaction');
    assertStripeShape({ ...done, latest_charge: ch.id }, 'payment_intent');
    const after = await stripe.balance.retrieve();
    assert.equal(sumBalance(after, bt.currency) - sumBalance(before, bt.currency), bt.net);
    assert.deepEqual(await eventsOf(pi.id),
      ['payment_intent.created', 'payment_intent.requires_action', 'payment_intent.succeeded']);
    assert.deepEqual(await eventsOf(ch.id), ['charge.succeeded']);
    // a replay changes nothing
    assertReturn(await post(forms['Fail test payment']), pi, 'succeeded');
    assert.equal((await stripe.charges.list({ payment_intent: pi.id })).data.length, 1);
    // refunds: partial, then the rest
    const r1 = await stripe.refunds.create({ payment_intent: pi.id, amount: 1000 });
    assert.equal(r1.status, 'succeeded');
    assertStripeShape(r1, 'refund');
    const r2 = await stripe.refunds.create({ charge: ch.id });
    assert.equal(r2.amount, c.amount - 1000);
    const refunded = await stripe.charges.retrieve(ch.id);
    assert.equal(refunded.refunded, true);
    assertStripeShape(refunded, 'charge');
  });

  test(`${type}: fail on the page -> requires_payment_method, no charge`, async () => {
    const pi = await bnplRedirected(type);
    const { forms } = await openPage(pi, c.shown);
    assertReturn(await post(forms['Fail test payment']), pi, 'failed');
    const failed = await stripe.paymentIntents.retrieve(pi.id);
    assert.equal(failed.status, 'requires_payment_method');
    assert.equal(failed.payment_method, null);
    assert.equal(failed.latest_charge, null);
    assert.equal(failed.last_payment_error.code, 'payment_intent_payment_attempt_failed');
    assert.equal(failed.last_payment_error.payment_method.type, type);
    assertStripeShape(failed, 'payment_intent');
    assert.deepEqual(await eventsOf(pi.id),
      ['payment_intent.created', 'payment_intent.requires_action', 'payment_intent.payment_failed']);
    assert.equal((await stripe.charges.list({ payment_intent: pi.id })).data.length, 0);
  });
}

test('BNPL refusals: currencies, amount limits, the details each lender requires; nothing changes', async () => {
  const badParam = (param, re) => (e) => e.statusCode === 400 && e.param === param && (!re || re.test(e.message));
  // currencies: each method's list, in Stripe's message
  await assert.rejects(stripe.paymentIntents.create({ amount: 6000, currency: 'eur', payment_method_types: ['affirm'] }),
    badParam('payment_method_types', /Payments with affirm support the following currencies: usd, cad\./));
  await assert.rejects(stripe.paymentIntents.create({ amount: 6000, currency: 'eur', payment_method_types: ['card', 'afterpay_clearpay'] }),
    badParam('payment_method_types', /aud, cad, gbp, nzd, usd/));
  await assert.rejects(stripe.paymentIntents.create({ amount: 6000, currency: 'jpy', payment_method_types: ['klarna'] }),
    badParam('payment_method_types', /klarna/));
  const cad = await stripe.paymentIntents.create({ amount: 6000, currency: 'cad', payment_method_types: ['affirm', 'afterpay_clearpay'] });
  assert.deepEqual(cad.payment_method_types, ['affirm', 'afterpay_clearpay']);
  assertStripeShape(cad, 'payment_intent');
  const affirmPm = await stripe.paymentMethods.create({ type: 'affirm', billing_details: BILLING });
  // Affirm: 50.00 to 30,000.00
  for (const [amount, code] of [[4999, 'amount_too_small'], [3000001, 'amount_too_large']]) {
    await assert.rejects(stripe.paymentIntents.create({
      amount, currency: 'usd', payment_method_types: ['affirm'], payment_method: affirmPm.id, confirm: true, return_url: RETURN,
    }), (e) => e.statusCode === 400 && e.code === code && e.param === 'amount' && /50\.00 and 30000\.00 usd/.test(e.message));
  }
  // Afterpay / Clearpay: per currency (gbp up to 1,200.00)
  const tooMuch = await stripe.paymentIntents.create({
    amount: 120001, currency: 'gbp', payment_method_types: ['afterpay_clearpay'], shipping: SHIPPING,
  });
  await assert.rejects(stripe.paymentIntents.confirm(tooMuch.id, {
    payment_method_data: { type: 'afterpay_clearpay', billing_details: BILLING }, return_url: RETURN,
  }), (e) => e.statusCode === 400 && e.code === 'amount_too_large');
  const unchanged = await stripe.paymentIntents.retrieve(tooMuch.id);
  assert.equal(unchanged.status, 'requires_payment_method');
  assert.deepEqual(await eventsOf(tooMuch.id), ['payment_intent.created']);
  // Afterpay: shipping, and the billing name, email and address
  const noShip = await stripe.paymentIntents.create({ amount: 5000, currency: 'gbp', payment_method_types: ['afterpay_clearpay'] });
  await assert.rejects(stripe.paymentIntents.confirm(noShip.id, {
    payment_method_data: { type: 'afterpay_clearpay', billing_details: BILLING }, return_url: RETURN,
  }), (e) => e.statusCode === 400 && e.code === 'parameter_missing' && e.param === 'shipping');
  await assert.rejects(stripe.paymentIntents.create({
    amount: 5000, currency: 'gbp', payment_method_types: ['afterpay_clearpay'], shipping: SHIPPING, confirm: true, return_url: RETURN,
    payment_method_data: { type: 'afterpay_clearpay', billing_details: { ...BILLING, email: undefined } },
  }), (e) => e.statusCode === 400 && e.code === 'parameter_missing' && e.param === 'payment_method_data[billing_details][email]');
  assert.equal((await stripe.paymentIntents.retrieve(noShip.id)).status, 'requires_payment_method');
  assert.deepEqual(await eventsOf(noShip.id), ['payment_intent.created']);
  // Klarna: billing email and country; a saved PaymentMethod without them is refused on payment_method
  const bare = await stripe.paymentMethods.create({ type: 'klarna', billing_details: { email: 'jenny@example.com' } });
  const k = await stripe.paymentIntents.create({ amount: 2500, currency: 'eur', payment_method_types: ['klarna'] });
  await assert.rejects(stripe.paymentIntents.confirm(k.id, { payment_method: bare.id, return_url: RETURN }),
    badParam('payment_method', /billing_details\[address\]\[country\]/));
  await assert.rejects(stripe.paymentIntents.confirm(k.id, {
    payment_method_data: { type: 'klarna', billing_details: { address: { country: 'DE' } } }, return_url: RETURN,
  }), (e) => e.code === 'parameter_missing' && e.param === 'payment_method_data[billing_details][email]');
  const kk = await stripe.paymentIntents.retrieve(k.id);
  assert.equal(kk.status, 'requires_payment_method');
  assert.equal(kk.payment_method, null);
  assert.deepEqual(await eventsOf(k.id), ['payment_intent.created']);
  // these methods pay once: no setup_future_usage
  await assert.rejects(stripe.paymentIntents.create({
    amount: 6000, currency: 'usd', payment_method_types: ['affirm'], payment_method: affirmPm.id, confirm: true,
    return_url: RETURN, setup_future_usage: 'off_session',
  }), badParam('setup_future_usage'));
});

test('BNPL manual capture: authorize -> requires_capture (held as a card authorization), partial capture -> succeeded', async () => {
  const before = await stripe.balance.retrieve();
  const pi = await bnplRedirected('klarna', { capture_method: 'manual' });
  assert.equal(pi.capture_method, 'manual');
  const { forms } = await openPage(pi);
  assertReturn(await post(forms['Authorize test payment']), pi, 'succeeded');
  const held = await stripe.paymentIntents.retrieve(pi.id, { expand: ['latest_charge'] });
  assert.equal(held.status, 'requires_capture');
  assert.equal(held.amount_capturable, 2500);
  assert.equal(held.amount_received, 0);
  const ch = held.latest_charge;
  assert.match(ch.id, /^py_/);
  assert.equal(ch.status, 'succeeded');
  assert.equal(ch.captured, false);
  assert.equal(ch.amount_captured, 0);
  assert.equal(ch.balance_transaction, null);
  assert.equal(ch.payment_method_details.type, 'klarna');
  assertStripeShape(ch, 'charge');
  assertStripeShape({ ...held, latest_charge: ch.id }, 'payment_intent');
  // a hold moves no money
  assert.deepEqual(totals(await stripe.balance.retrieve()), totals(before));
  assert.deepEqual(await eventsOf(pi.id),
    ['payment_intent.created', 'payment_intent.requires_action', 'payment_intent.amount_capturable_updated']);
  // more than was authorized is refused
  await assert.rejects(stripe.paymentIntents.capture(pi.id, { amount_to_capture: 2501 }),
    (e) => e.statusCode === 400 && e.param === 'amount_to_capture');
  const cap = await stripe.paymentIntents.capture(pi.id, { amount_to_capture: 1500 });
  assert.equal(cap.status, 'succeeded');
  assert.equal(cap.amount_received, 1500);
  assert.equal(cap.amount_capturable, 0);
  assertStripeShape(cap, 'payment_intent');
  const captured = await stripe.charges.retrieve(ch.id, { expand: ['balance_transaction'] });
  assert.equal(captured.captured, true);
  assert.equal(captured.amount_captured, 1500);
  assert.equal(captured.balance_transaction.amount > 0, true);
  assert.equal(captured.balance_transaction.source, ch.id);
  assertFee('klarna', captured.balance_transaction); // the captured 15.00 eur, converted
  assertStripeShape({ ...captured, balance_transaction: captured.balance_transaction.id }, 'charge');
  const after = await stripe.balance.retrieve();
  const cur = captured.balance_transaction.currency; // the merchant's settlement currency
  assert.equal(sumBalance(after, cur) - sumBalance(before, cur), captured.balance_transaction.net);
  assert.deepEqual(await eventsOf(ch.id), ['charge.succeeded', 'charge.captured']);
  assert.deepEqual((await eventsOf(pi.id)).slice(-1), ['payment_intent.succeeded']);
  // captured once only; a refund takes back no more than was captured
  await assert.rejects(stripe.paymentIntents.capture(pi.id), (e) => e.statusCode === 400);
  await assert.rejects(stripe.refunds.create({ charge: ch.id, amount: 1501 }), (e) => e.statusCode === 400);
  const r = await stripe.refunds.create({ charge: ch.id });
  assert.equal(r.amount, 1500);
});

test('BNPL manual capture: authorize -> cancel releases the hold', async () => {
  const before = await stripe.balance.retrieve();
  const pi = await bnplRedirected('affirm', { capture_method: 'manual' });
  const { forms } = await openPage(pi, BNPL.affirm.shown);
  assertReturn(await post(forms['Authorize test payment']), pi, 'succeeded');
  const held = await stripe.paymentIntents.retrieve(pi.id);
  assert.equal(held.status, 'requires_capture');
  const canceled = await stripe.paymentIntents.cancel(pi.id, { cancellation_reason: 'requested_by_customer' });
  assert.equal(canceled.status, 'canceled');
  assert.equal(canceled.amount_capturable, 0);
  assert.equal(canceled.cancellation_reason, 'requested_by_customer');
  assertStripeShape(canceled, 'payment_intent');
  const ch = await stripe.charges.retrieve(held.latest_charge);
  assert.equal(ch.captured, false);
  assert.equal(ch.balance_transaction, null);
  assertStripeShape(ch, 'charge');
  assert.deepEqual(totals(await stripe.balance.retrieve()), totals(before));
  assert.deepEqual((await eventsOf(pi.id)).slice(-2), ['payment_intent.amount_capturable_updated', 'payment_intent.canceled']);
  await assert.rejects(stripe.paymentIntents.capture(pi.id), (e) => e.statusCode === 400);
  // iDEAL still cannot be captured by hand
  await assert.rejects(stripe.paymentIntents.create({ amount: 2500, currency: 'eur', payment_method_types: ['ideal'], capture_method: 'manual' }),
    (e) => e.statusCode === 400 && e.param === 'capture_method');
});

// ---- payment_method_options of the redirect methods ----

test('payment_method_options[ideal|bancontact|affirm|afterpay_clearpay|klarna]: taken on create and update, rendered as Stripe does, refused when bad; nothing changes', async () => {
  const banks = await stripe.paymentIntents.create({
    amount: 2500, currency: 'eur', payment_method_types: ['card', 'ideal', 'bancontact', 'klarna'],
    payment_method_options: {
      ideal: { setup_future_usage: 'off_session' },
      bancontact: { preferred_language: 'nl', setup_future_usage: 'none' },
      klarna: { capture_method: 'manual', preferred_locale: 'de-DE' },
    },
  });
  assert.deepEqual(banks.payment_method_options.ideal, { setup_future_usage: 'off_session' });
  assert.deepEqual(banks.payment_method_options.bancontact, { preferred_language: 'nl', setup_future_usage: 'none' });
  assert.deepEqual(banks.payment_method_options.klarna, { capture_method: 'manual', preferred_locale: 'de-DE' });
  assert.equal(banks.payment_method_options.card.capture_method, undefined);
  assertStripeShape(banks, 'payment_intent');
  // update: "" unsets a setup_future_usage and a capture_method; the rest is kept
  const upd = await stripe.paymentIntents.update(banks.id, {
    payment_method_options: { ideal: { setup_future_usage: '' }, bancontact: { preferred_language: 'fr' }, klarna: { capture_method: '' } },
  });
  assert.deepEqual(upd.payment_method_options.ideal, {});
  assert.deepEqual(upd.payment_method_options.bancontact, { preferred_language: 'fr', setup_future_usage: 'none' });
  assert.deepEqual(upd.payment_method_options.klarna, { preferred_locale: 'de-DE' });
  assertStripeShape(upd, 'payment_intent');
  assert.deepEqual((await stripe.paymentIntents.retrieve(banks.id)).payment_method_options, upd.payment_method_options);

  const lenders = await stripe.paymentIntents.create({
    amount: 6000, currency: 'usd', payment_method_types: ['affirm', 'afterpay_clearpay'],
    payment_method_options: {
      affirm: { capture_method: 'manual', preferred_locale: 'en-US' },
      afterpay_clearpay: { capture_method: 'manual', reference: 'order-42' },
    },
  });
  assert.deepEqual(lenders.payment_method_options.affirm, { capture_method: 'manual', preferred_locale: 'en-US' });
  assert.deepEqual(lenders.payment_method_options.afterpay_clearpay, { capture_method: 'manual', reference: 'order-42' });
  assertStripeShape(lenders, 'payment_intent');
  const lenders2 = await stripe.paymentIntents.update(lenders.id, { payment_method_options: { afterpay_clearpay: { reference: '' } } });
  assert.deepEqual(lenders2.payment_method_options.afterpay_clearpay, { capture_method: 'manual', reference: null });

  // Stripe's values only; Klarna takes no setup_future_usage but none (Tender: not at all)
  const badParam = (param, code) => (e) => e.statusCode === 400 && e.param === param && (!code || e.code === code);
  for (const [pmo, param, code] of [
    [{ bancontact: { preferred_language: 'es' } }, 'payment_method_options[bancontact][preferred_language]'],
    [{ ideal: { setup_future_usage: 'on_session' } }, 'payment_method_options[ideal][setup_future_usage]'],
    [{ bancontact: { setup_future_usage: 'on_session' } }, 'payment_method_options[bancontact][setup_future_usage]'],
    [{ klarna: { preferred_locale: 'xx-XX' } }, 'payment_method_options[klarna][preferred_locale]'],
    [{ klarna: { capture_method: 'automatic' } }, 'payment_method_options[klarna][capture_method]'],
    [{ affirm: { preferred_locale: 'x'.repeat(31) } }, 'payment_method_options[affirm][preferred_locale]'],
    [{ afterpay_clearpay: { reference: 'r'.repeat(129) } }, 'payment_method_options[afterpay_clearpay][reference]'],
    [{ klarna: { setup_future_usage: 'off_session' } }, 'payment_method_options[klarna][setup_future_usage]', 'parameter_unknown'],
  ]) {
    await assert.rejects(stripe.paymentIntents.update(banks.id, { payment_method_options: pmo }), badParam(param, code));
  }
  assert.deepEqual((await stripe.paymentIntents.retrieve(banks.id)).payment_method_options, upd.payment_method_options);
  assert.deepEqual(await eventsOf(banks.id), ['payment_intent.created']);
});

test('payment_method_options capture_method per type: a lender held while a card on the same terms captures, and the other way round; taken on confirm; locale and reference on the charge', async () => {
  const card = (extra) => stripe.paymentIntents.create({
    amount: 2500, currency: 'eur', payment_method: 'pm_card_visa', confirm: true, ...extra,
  });
  // Klarna manual, the intent automatic: Klarna's authorization is held, a card's is captured
  const kOpts = { payment_method_types: ['card', 'klarna'], payment_method_options: { klarna: { capture_method: 'manual', preferred_locale: 'de-DE' } } };
  const k = await bnplRedirected('klarna', kOpts);
  assert.equal(k.capture_method, 'automatic');
  assertReturn(await post((await openPage(k)).forms['Authorize test payment']), k, 'succeeded');
  const kHeld = await stripe.paymentIntents.retrieve(k.id, { expand: ['latest_charge'] });
  assert.equal(kHeld.status, 'requires_capture');
  assert.equal(kHeld.amount_capturable, 2500);
  assert.equal(kHeld.latest_charge.captured, false);
  assert.deepEqual(kHeld.latest_charge.payment_method_details.klarna, { payment_method_category: 'pay_later', preferred_locale: 'de-DE' });
  assertStripeShape(kHeld.latest_charge, 'charge');
  assertStripeShape({ ...kHeld, latest_charge: kHeld.latest_charge.id }, 'payment_intent');
  assert.deepEqual((await eventsOf(k.id)).slice(-1), ['payment_intent.amount_capturable_updated']);
  assert.equal((await stripe.paymentIntents.capture(k.id)).status, 'succeeded');
  const kCard = await card(kOpts);
  assert.equal(kCard.status, 'succeeded');
  assertStripeShape(kCard, 'payment_intent');

  // the card manual, the intent automatic: Afterpay captures at once, the card is held; the
  // reference given on confirm shows on the charge
  const aOpts = { payment_method_types: ['card', 'afterpay_clearpay'], payment_method_options: { card: { capture_method: 'manual' } } };
  const made = await stripe.paymentIntents.create({ amount: 5000, currency: 'gbp', shipping: SHIPPING, ...aOpts });
  const a = await stripe.paymentIntents.confirm(made.id, {
    payment_method_data: { type: 'afterpay_clearpay', billing_details: BILLING }, return_url: RETURN,
    payment_method_options: { afterpay_clearpay: { reference: 'order-42' } },
  });
  assert.equal(a.status, 'requires_action');
  assert.equal(a.payment_method_options.afterpay_clearpay.reference, 'order-42');
  assertReturn(await post((await openPage(a, /50\.00 GBP/)).forms['Authorize test payment']), a, 'succeeded');
  const aDone = await stripe.paymentIntents.retrieve(a.id, { expand: ['latest_charge'] });
  assert.equal(aDone.status, 'succeeded');
  assert.equal(aDone.latest_charge.captured, true);
  assert.deepEqual(aDone.latest_charge.payment_method_details.afterpay_clearpay, { order_id: null, reference: 'order-42' });
  assertStripeShape(aDone.latest_charge, 'charge');
  const aCard = await card({ ...aOpts, currency: 'gbp' });
  assert.equal(aCard.status, 'requires_capture');
  assertStripeShape(aCard, 'payment_intent');

  // Affirm's capture_method given on confirm
  const f = await stripe.paymentIntents.create({ amount: 6000, currency: 'usd', payment_method_types: ['affirm'] });
  const fc = await stripe.paymentIntents.confirm(f.id, {
    payment_method_data: { type: 'affirm', billing_details: BILLING }, return_url: RETURN,
    payment_method_options: { affirm: { capture_method: 'manual', preferred_locale: 'en-US' } },
  });
  assert.deepEqual(fc.payment_method_options.affirm, { capture_method: 'manual', preferred_locale: 'en-US' });
  assertReturn(await post((await openPage(fc, BNPL.affirm.shown)).forms['Authorize test payment']), fc, 'succeeded');
  const fHeld = await stripe.paymentIntents.retrieve(f.id);
  assert.equal(fHeld.status, 'requires_capture');
  assertStripeShape(fHeld, 'payment_intent');
  await stripe.paymentIntents.cancel(f.id);
  // a bank has no capture_method of its own
  await assert.rejects(stripe.paymentIntents.create({
    amount: 2500, currency: 'eur', payment_method_types: ['ideal'], payment_method_options: { ideal: { capture_method: 'manual' } },
  }), (e) => e.statusCode === 400 && e.code === 'parameter_unknown' && e.param === 'payment_method_options[ideal][capture_method]');
});

test('payment_method_options setup_future_usage per type (iDEAL, Bancontact) and Bancontact\'s preferred_language on the charge', async () => {
  const cus = await stripe.customers.create({ email: 'pmo@example.com' });
  // the intent saves, iDEAL's own none does not: no generated sepa_debit
  const i = await redirected('ideal', { customer: cus.id, setup_future_usage: 'off_session', payment_method_options: { ideal: { setup_future_usage: 'none' } } });
  assertReturn(await post((await openPage(i)).forms['Authorize test payment']), i, 'succeeded');
  const iDone = await stripe.paymentIntents.retrieve(i.id, { expand: ['latest_charge'] });
  assert.equal(iDone.status, 'succeeded');
  assert.equal(iDone.latest_charge.payment_method_details.ideal.generated_sepa_debit, null);
  assert.equal(iDone.latest_charge.payment_method_details.ideal.generated_sepa_debit_mandate, null);
  assert.equal((await stripe.paymentMethods.list({ customer: cus.id, type: 'sepa_debit' })).data.length, 0);
  // on_session on the intent, Bancontact's own off_session (given on confirm) wins: saved
  const b = await stripe.paymentIntents.create({
    amount: 2500, currency: 'eur', customer: cus.id, payment_method_types: ['bancontact'], setup_future_usage: 'on_session',
  });
  const pm = await pmOf('bancontact');
  const bc = await stripe.paymentIntents.confirm(b.id, {
    payment_method: pm.id, return_url: RETURN,
    payment_method_options: { bancontact: { setup_future_usage: 'off_session', preferred_language: 'nl' } },
  });
  assert.equal(bc.status, 'requires_action');
  assert.deepEqual(bc.payment_method_options.bancontact, { preferred_language: 'nl', setup_future_usage: 'off_session' });
  assertStripeShape(bc, 'payment_intent');
  assertReturn(await post((await openPage(bc)).forms['Authorize test payment']), bc, 'succeeded');
  const bDone = await stripe.paymentIntents.retrieve(b.id, { expand: ['latest_charge'] });
  const d = bDone.latest_charge.payment_method_details.bancontact;
  assert.equal(d.preferred_language, 'nl');
  assert.match(d.generated_sepa_debit, /^pm_/);
  assertStripeShape(bDone.latest_charge, 'charge');
  const saved = await stripe.paymentMethods.list({ customer: cus.id, type: 'sepa_debit' });
  assert.deepEqual(saved.data.map((x) => x.id), [d.generated_sepa_debit]);
  // the intent's on_session alone is still refused for a bank
  const pm2 = await pmOf('ideal');
  await assert.rejects(stripe.paymentIntents.create({
    amount: 2500, currency: 'eur', payment_method_types: ['ideal'], payment_method: pm2.id, confirm: true,
    return_url: RETURN, setup_future_usage: 'on_session', payment_method_options: { bancontact: { setup_future_usage: 'off_session' } },
  }), (e) => e.statusCode === 400 && e.param === 'setup_future_usage');
});


// ---- Checkout Sessions and payment links ----

// A checkout page paid by the test card (the 25.00 EUR sessions of this file), to success_url.
async function payByCard(page) {
  await page.locator('#email').fill('ada@example.com');
  await page.getByLabel('Name on card').fill('Ada Lovelace');
  await page.getByLabel('Card number').fill('4242424242424242');
  await page.getByLabel('Month (MM)').fill('10');
  await page.getByLabel('Year (YYYY)').fill('2035');
  await page.getByLabel('CVC').fill('321');
  await Promise.all([page.waitForURL(/\/ok\?/), page.getByRole('button', { name: /^Pay 25\.00 EUR$/ }).click()]);
}

async function openBrowser() {
  if (browser) return browser;
  shop = await startShop();
  shopPort = shop.address().port;
  browser = await launchChromium();
  return browser;
}

let eurPrice;
async function sessionOf(types, extra = {}) {
  await openBrowser();
  if (!eurPrice) eurPrice = await stripe.prices.create({ currency: 'eur', unit_amount: 1250, product_data: { name: 'Stroopwafels' } });
  return stripe.checkout.sessions.create({
    mode: 'payment',
    line_items: [{ price: eurPrice.id, quantity: 2 }],
    payment_method_types: types,
    success_url: `http://127.0.0.1:${shopPort}/ok?session_id={CHECKOUT_SESSION_ID}`,
    cancel_url: `http://127.0.0.1:${shopPort}/cancel`,
    ...extra,
  });
}

// On the checkout page: the iDEAL form filled and posted, landing on the bank's test page.
async function payIdeal(page, bank = 'rabobank') {
  await page.locator('#ideal-email').fill('jenny@example.com');
  await page.locator('#ideal-name').fill('Jenny Rosen');
  await page.selectOption('#ideal-bank', bank);
  await Promise.all([page.waitForURL(/\/redirect\/acct_\w+\/pi_\w+\/[A-Za-z0-9]{32}$/), page.locator('#ideal-pay').click()]);
  assert.match(await page.locator('h1').textContent(), /iDEAL test payment page/);
}

async function completedEvents(id) {
  const ev = await stripe.events.list({ type: 'checkout.session.completed', limit: 100 });
  return ev.data.filter((e) => e.data.object.id === id);
}

test('checkout: iDEAL with setup_future_usage -> the bank\'s page, authorize -> success_url; session complete and paid in the same write, charge details, generated sepa_debit saved on the customer', async () => {
  const cus = await stripe.customers.create({ email: 'jenny@example.com' });
  const s = await sessionOf(['card', 'ideal'], { customer: cus.id, payment_intent_data: { setup_future_usage: 'off_session' } });
  assert.deepEqual(s.payment_method_types, ['card', 'ideal']);
  assertStripeShape(s, 'checkout.session');
  const page = await browser.newPage();
  try {
    await page.goto(s.url);
    // beside the card form: iDEAL's, with Stripe's bank codes, and its saved-mandate text
    assert.equal(await page.locator('#choice-ideal').count(), 1);
    const banks = await page.locator('#ideal-bank option').evaluateAll((os) => os.map((o) => o.value));
    assert.deepEqual(banks.filter(Boolean).sort(), ['abn_amro', 'asn_bank', 'bunq', 'handelsbanken', 'ing', 'knab', 'moneyou', 'n26',
      'rabobank', 'regiobank', 'revolut', 'sns_bank', 'triodos_bank', 'van_lanschot', 'yoursafe']);
    assert.equal(await page.locator('#ideal-mandate').count(), 1);
    assert.equal(await page.locator('#bancontact-form').count(), 0);
    await payIdeal(page);
    // while the bank waits, the session is open and its intent requires_action
    const waiting = await stripe.checkout.sessions.retrieve(s.id);
    assert.equal(waiting.status, 'open');
    assert.equal(waiting.payment_status, 'unpaid');
    const piWaiting = await stripe.paymentIntents.retrieve(waiting.payment_intent);
    assert.equal(piWaiting.status, 'requires_action');
    assert.deepEqual(piWaiting.payment_method_types, ['card', 'ideal']);
    assert.match(piWaiting.next_action.redirect_to_url.return_url, new RegExp(`/checkout/${env.merchant.id}/${s.id}/return$`));
    await Promise.all([page.waitForURL(/\/ok\?/), page.getByRole('button', { name: 'Authorize test payment' }).click()]);
    assert.equal(new URL(page.url()).searchParams.get('session_id'), s.id);
  } finally {
    await page.close();
  }
  const done = await stripe.checkout.sessions.retrieve(s.id, { expand: ['payment_intent.latest_charge'] });
  assert.equal(done.status, 'complete');
  assert.equal(done.payment_status, 'paid');
  assert.deepEqual(done.payment_method_types, ['card', 'ideal']);
  assert.equal(done.customer, cus.id);
  assert.equal(done.customer_details.email, 'jenny@example.com');
  assert.equal(done.customer_details.name, 'Jenny Rosen');
  const pi = done.payment_intent;
  assert.equal(pi.status, 'succeeded');
  assert.equal(pi.amount_received, 2500);
  assert.equal(pi.customer, cus.id);
  const ch = pi.latest_charge;
  assert.equal(ch.payment_method_details.type, 'ideal');
  const details = ch.payment_method_details.ideal;
  assert.equal(details.bank, 'rabobank');
  assert.equal(details.bic, 'RABONL2U');
  assert.equal(details.verified_name, 'Jenny Rosen');
  assert.match(details.generated_sepa_debit, /^pm_/);
  assert.match(details.generated_sepa_debit_mandate, /^mandate_/);
  assertStripeShape(ch, 'charge');
  // the generated sepa_debit PaymentMethod is saved on the session's customer
  const saved = await stripe.customers.listPaymentMethods(cus.id, { type: 'sepa_debit' });
  assert.deepEqual(saved.data.map((m) => m.id), [details.generated_sepa_debit]);
  const plain = await stripe.checkout.sessions.retrieve(s.id);
  assertStripeShape(plain, 'checkout.session');
  // completed once, naming the paid session; GETs afterwards change nothing
  const ev = await completedEvents(s.id);
  assert.equal(ev.length, 1);
  assert.equal(ev[0].data.object.payment_status, 'paid');
  const again = await env.request({ path: `/checkout/${env.merchant.id}/${s.id}/return?redirect_status=failed` });
  assert.equal(again.status, 303);
  assert.match(again.headers.location, /\/ok\?session_id=cs_/);
  assert.equal((await completedEvents(s.id)).length, 1);
});

test('checkout: iDEAL failed at the bank -> back on the page saying so (not trusting the query string); then a card pays the same session with the same PaymentIntent', async () => {
  const s = await sessionOf(['card', 'ideal']);
  // before any attempt, a return claiming failure shows the page as it is
  const early = await env.request({ path: `/checkout/${env.merchant.id}/${s.id}/return?redirect_status=failed` });
  assert.equal(early.status, 200);
  assert.doesNotMatch(early.body, /class="error"/);
  assert.match(early.body, /id="ideal-form"/);
  const page = await browser.newPage();
  let failedPi;
  try {
    await page.goto(s.url);
    await payIdeal(page, 'ing');
    await Promise.all([page.waitForURL(/\/return\?/), page.getByRole('button', { name: 'Fail test payment' }).click()]);
    assert.match(await page.locator('.error').textContent(), /payment failed/i);
    const open = await stripe.checkout.sessions.retrieve(s.id);
    assert.equal(open.status, 'open');
    assert.equal(open.payment_status, 'unpaid');
    failedPi = await stripe.paymentIntents.retrieve(open.payment_intent);
    assert.equal(failedPi.status, 'requires_payment_method');
    assert.equal(failedPi.last_payment_error.code, 'payment_intent_payment_attempt_failed');
    // a forged redirect_status=succeeded does not make it paid: the intent decides
    const forged = await env.request({ path: `/checkout/${env.merchant.id}/${s.id}/return?payment_intent=${failedPi.id}&redirect_status=succeeded` });
    assert.equal(forged.status, 402);
    assert.equal((await stripe.checkout.sessions.retrieve(s.id)).status, 'open');
    // the buyer tries again by card, on the same page
    await payByCard(page);
  } finally {
    await page.close();
  }
  // Stripe keeps one PaymentIntent per session: the card confirmed the failed one again
  const done = await stripe.checkout.sessions.retrieve(s.id, { expand: ['payment_intent'] });
  assert.equal(done.status, 'complete');
  assert.equal(done.payment_status, 'paid');
  assert.equal(done.payment_intent.id, failedPi.id);
  assert.equal(done.payment_intent.status, 'succeeded');
  assert.deepEqual(done.payment_intent.payment_method_types, ['card', 'ideal']);
  assertStripeShape(await stripe.paymentIntents.retrieve(failedPi.id), 'payment_intent');
  assertStripeShape(await stripe.checkout.sessions.retrieve(s.id), 'checkout.session');
  assert.equal((await completedEvents(s.id)).length, 1);
  // the failed iDEAL payment booked no charge: the card's is the only one
  const charges = await stripe.charges.list({ payment_intent: failedPi.id });
  assert.deepEqual(charges.data.map((c) => [c.status, c.payment_method_details.type]), [['succeeded', 'card']]);
});

test('checkout: iDEAL failed, then iDEAL again on the same page -> the same PaymentIntent, succeeded; the first bank page opens nothing', async () => {
  const s = await sessionOf(['card', 'ideal']);
  const page = await browser.newPage();
  let firstUrl;
  let piId;
  try {
    await page.goto(s.url);
    await payIdeal(page, 'ing');
    firstUrl = page.url();
    piId = (await stripe.checkout.sessions.retrieve(s.id)).payment_intent;
    await Promise.all([page.waitForURL(/\/return\?/), page.getByRole('button', { name: 'Fail test payment' }).click()]);
    assert.match(await page.locator('.error').textContent(), /payment failed/i);
    assert.equal((await stripe.paymentIntents.retrieve(piId)).status, 'requires_payment_method');
    await payIdeal(page, 'rabobank');
    assert.notEqual(page.url(), firstUrl);
    const waiting = await stripe.checkout.sessions.retrieve(s.id);
    assert.equal(waiting.payment_intent, piId);
    assert.equal((await stripe.paymentIntents.retrieve(piId)).status, 'requires_action');
    await Promise.all([page.waitForURL(/\/ok\?/), page.getByRole('button', { name: 'Authorize test payment' }).click()]);
  } finally {
    await page.close();
  }
  const done = await stripe.checkout.sessions.retrieve(s.id, { expand: ['payment_intent.latest_charge'] });
  assert.equal(done.status, 'complete');
  assert.equal(done.payment_status, 'paid');
  assert.equal(done.payment_intent.id, piId);
  assert.equal(done.payment_intent.status, 'succeeded');
  assert.equal(done.payment_intent.amount_received, 2500);
  assert.equal(done.payment_intent.latest_charge.payment_method_details.ideal.bank, 'rabobank');
  assertStripeShape(await stripe.paymentIntents.retrieve(piId), 'payment_intent');
  assertStripeShape(await stripe.checkout.sessions.retrieve(s.id), 'checkout.session');
  // one charge, the one that succeeded (the failed authorization booked none), one completion
  const charges = await stripe.charges.list({ payment_intent: piId });
  assert.deepEqual(charges.data.map((c) => c.status), ['succeeded']);
  assert.equal((await completedEvents(s.id)).length, 1);
  // the first bank page opens nothing now
  const stale = await env.request({ path: new URL(firstUrl).pathname });
  assert.notEqual(stale.status, 200);
  assert.equal((await stripe.paymentIntents.retrieve(piId)).status, 'succeeded');
});

test('checkout: after a failed iDEAL, a card form posted three times at once pays the session\'s one PaymentIntent once', async () => {
  const s = await sessionOf(['card', 'ideal']);
  const path = new URL(s.url).pathname;
  const ideal = new URLSearchParams({
    'payment_method_data[type]': 'ideal', 'payment_method_data[ideal][bank]': 'ing',
    'payment_method_data[billing_details][name]': 'Jenny Rosen', 'payment_method_data[billing_details][email]': 'jenny@example.com',
  }).toString();
  const toBank = await env.request({ method: 'POST', path, body: ideal });
  assert.equal(toBank.status, 303);
  const failed = await env.request({ method: 'POST', path: `${new URL(toBank.headers.location).pathname}/fail`, body: '' });
  assert.equal(failed.status, 303);
  const piId = (await stripe.checkout.sessions.retrieve(s.id)).payment_intent;
  assert.equal((await stripe.paymentIntents.retrieve(piId)).status, 'requires_payment_method');
  const card = new URLSearchParams({
    'payment_method_data[type]': 'card', 'payment_method_data[card][number]': '4242424242424242',
    'payment_method_data[card][exp_month]': '12', 'payment_method_data[card][exp_year]': '2034', 'payment_method_data[card][cvc]': '123',
    'payment_method_data[billing_details][email]': 'ada@example.com', 'payment_method_data[billing_details][name]': 'Ada Lovelace',
  }).toString();
  const codes = (await Promise.all([1, 2, 3].map(() => env.request({ method: 'POST', path, body: card })))).map((x) => x.status);
  assert.ok(codes.includes(303), codes.join(','));
  const done = await stripe.checkout.sessions.retrieve(s.id);
  assert.equal(done.status, 'complete');
  assert.equal(done.payment_status, 'paid');
  assert.equal(done.payment_intent, piId);
  const pi = await stripe.paymentIntents.retrieve(piId);
  assert.equal(pi.status, 'succeeded');
  assert.equal(pi.amount_received, 2500);
  const charges = await stripe.charges.list({ payment_intent: piId });
  assert.deepEqual(charges.data.map((c) => c.status), ['succeeded']);
  assert.equal((await completedEvents(s.id)).length, 1);
});

test('checkout: the bank page left, a card paid on the page instead -> the same PaymentIntent; the bank page then opens nothing', async () => {
  const s = await sessionOf(['card', 'bancontact']);
  const page = await browser.newPage();
  let bankUrl;
  let piId;
  try {
    await page.goto(s.url);
    await page.locator('#bancontact-email').fill('jenny@example.com');
    await page.locator('#bancontact-name').fill('Jenny Rosen');
    await Promise.all([page.waitForURL(/\/redirect\/acct_\w+\/pi_\w+\/[A-Za-z0-9]{32}$/), page.locator('#bancontact-pay').click()]);
    bankUrl = page.url();
    piId = (await stripe.checkout.sessions.retrieve(s.id)).payment_intent;
    assert.equal((await stripe.paymentIntents.retrieve(piId)).status, 'requires_action');
    // back to the checkout page, abandoning the bank's
    await page.goto(s.url);
    await payByCard(page);
  } finally {
    await page.close();
  }
  const done = await stripe.checkout.sessions.retrieve(s.id, { expand: ['payment_intent.latest_charge'] });
  assert.equal(done.status, 'complete');
  assert.equal(done.payment_status, 'paid');
  assert.equal(done.payment_intent.id, piId);
  assert.equal(done.payment_intent.status, 'succeeded');
  assert.equal(done.payment_intent.next_action, null);
  assert.equal(done.payment_intent.latest_charge.payment_method_details.type, 'card');
  assertStripeShape(await stripe.paymentIntents.retrieve(piId), 'payment_intent');
  assertStripeShape(await stripe.checkout.sessions.retrieve(s.id), 'checkout.session');
  const charges = await stripe.charges.list({ payment_intent: piId });
  assert.deepEqual(charges.data.map((c) => c.status), ['succeeded']);
  assert.equal((await completedEvents(s.id)).length, 1);
  // the abandoned bank page cannot pay a second time
  const stale = await env.request({ path: new URL(bankUrl).pathname });
  assert.notEqual(stale.status, 200);
  const post = await env.request({ method: 'POST', path: `${new URL(bankUrl).pathname}/authorize`, body: '' });
  assert.notEqual(post.status, 200);
  assert.equal((await stripe.charges.list({ payment_intent: piId })).data.length, 1);
  assert.equal((await stripe.paymentIntents.retrieve(piId)).amount_received, 2500);
});

test('checkout: payment_method_options[ideal|bancontact][setup_future_usage]=none shown on the session and its intent, payment_intent_data\'s kept off iDEAL (nothing saved); refusals make nothing', async () => {
  const cus = await stripe.customers.create({ email: 'jenny@example.com' });
  // on_session is refused for iDEAL and Bancontact unless their own none keeps it off them
  const s = await sessionOf(['card', 'ideal', 'bancontact'], {
    customer: cus.id, payment_intent_data: { setup_future_usage: 'on_session' },
    payment_method_options: { ideal: { setup_future_usage: 'none' }, bancontact: { setup_future_usage: 'none' } },
  });
  assert.deepEqual(s.payment_method_options, { bancontact: { setup_future_usage: 'none' }, ideal: { setup_future_usage: 'none' } });
  assertStripeShape(s, 'checkout.session');
  const page = await browser.newPage();
  try {
    await page.goto(s.url);
    await payIdeal(page);
    await Promise.all([page.waitForURL(/\/ok\?/), page.getByRole('button', { name: 'Authorize test payment' }).click()]);
  } finally {
    await page.close();
  }
  const done = await stripe.checkout.sessions.retrieve(s.id, { expand: ['payment_intent.latest_charge'] });
  assert.equal(done.payment_status, 'paid');
  const pi = done.payment_intent;
  assert.equal(pi.status, 'succeeded');
  assert.deepEqual(pi.payment_method_options.ideal, { setup_future_usage: 'none' });
  assert.equal(pi.payment_method_options.bancontact.setup_future_usage, 'none');
  assert.equal(pi.latest_charge.payment_method_details.ideal.generated_sepa_debit, null);
  assert.equal((await stripe.customers.listPaymentMethods(cus.id, { type: 'sepa_debit' })).data.length, 0);

  const before = (await stripe.checkout.sessions.list({ limit: 100 })).data.length;
  const refusals = [
    // the spec's Checkout takes none only (a PaymentIntent takes off_session too)
    [['card', 'ideal'], { payment_method_options: { ideal: { setup_future_usage: 'off_session' } } }, 'payment_method_options[ideal][setup_future_usage]'],
    [['card', 'bancontact'], { payment_method_options: { bancontact: { setup_future_usage: 'off_session' } } }, 'payment_method_options[bancontact][setup_future_usage]'],
    [['card'], { mode: 'setup', line_items: undefined, currency: 'eur', payment_method_options: { ideal: { setup_future_usage: 'none' } } },
      'payment_method_options[ideal][setup_future_usage]'],
    [['card', 'bancontact'], { payment_intent_data: { setup_future_usage: 'on_session' }, payment_method_options: { ideal: { setup_future_usage: 'none' } } },
      'payment_intent_data[setup_future_usage]'],
  ];
  for (const [types, extra, param] of refusals) {
    await assert.rejects(sessionOf(types, extra), (e) => {
      assert.equal(e.statusCode, 400, JSON.stringify(extra));
      assert.equal(e.param, param, JSON.stringify(extra));
      return true;
    });
  }
  assert.equal((await stripe.checkout.sessions.list({ limit: 100 })).data.length, before);
});

test('payment link with ideal and bancontact: each payment\'s session takes them; Bancontact pays it', async () => {
  await openBrowser();
  if (!eurPrice) eurPrice = await stripe.prices.create({ currency: 'eur', unit_amount: 1250, product_data: { name: 'Stroopwafels' } });
  const link = await stripe.paymentLinks.create({
    line_items: [{ price: eurPrice.id, quantity: 1 }],
    payment_method_types: ['ideal', 'bancontact'],
    after_completion: { type: 'redirect', redirect: { url: `http://127.0.0.1:${shopPort}/ok?link=1` } },
  });
  assert.deepEqual(link.payment_method_types, ['ideal', 'bancontact']);
  assertStripeShape(link, 'payment_link');
  const page = await browser.newPage();
  try {
    await page.goto(link.url);
    assert.equal(await page.locator('#ideal-form').count(), 1);
    assert.equal(await page.locator('#bancontact-form').count(), 1);
    assert.equal(await page.locator('#number').count(), 0); // no card form
    await page.locator('#bancontact-email').fill('jan@example.be');
    await page.locator('#bancontact-name').fill('Jan Peeters');
    await Promise.all([page.waitForURL(/\/redirect\//), page.locator('#bancontact-pay').click()]);
    assert.match(await page.locator('h1').textContent(), /Bancontact test payment page/);
    await Promise.all([page.waitForURL(/\/ok\?link=1/), page.getByRole('button', { name: 'Authorize test payment' }).click()]);
  } finally {
    await page.close();
  }
  const sessions = await stripe.checkout.sessions.list({ payment_link: link.id });
  assert.equal(sessions.data.length, 1);
  const s = await stripe.checkout.sessions.retrieve(sessions.data[0].id, { expand: ['payment_intent.latest_charge'] });
  assert.equal(s.status, 'complete');
  assert.equal(s.payment_status, 'paid');
  assert.deepEqual(s.payment_method_types, ['ideal', 'bancontact']);
  assert.equal(s.amount_total, 1250);
  const ch = s.payment_intent.latest_charge;
  assert.equal(ch.payment_method_details.type, 'bancontact');
  assert.equal(ch.payment_method_details.bancontact.bank_code, 'VAPE');
  assert.equal(ch.payment_method_details.bancontact.generated_sepa_debit, null);
  assertStripeShape(ch, 'charge');
  assertStripeShape(await stripe.checkout.sessions.retrieve(s.id), 'checkout.session');
  assert.equal((await completedEvents(s.id)).length, 1);
});

test('checkout and payment link refusals with ideal / bancontact: usd, manual capture, on_session, subscription mode, shipping; nothing made', async () => {
  const usd = await stripe.prices.create({ currency: 'usd', unit_amount: 1000, product_data: { name: 'Hat' } });
  if (!eurPrice) eurPrice = await stripe.prices.create({ currency: 'eur', unit_amount: 1250, product_data: { name: 'Stroopwafels' } });
  const base = { mode: 'payment', success_url: 'https://shop.example/ok' };
  const before = (await stripe.checkout.sessions.list({ limit: 100 })).data.length;
  await assert.rejects(stripe.checkout.sessions.create({ ...base, line_items: [{ price: usd.id, quantity: 1 }], payment_method_types: ['card', 'ideal'] }),
    (e) => e.statusCode === 400 && e.param === 'payment_method_types' && /eur/.test(e.message));
  await assert.rejects(stripe.checkout.sessions.create({ ...base, line_items: [{ price: eurPrice.id, quantity: 1 }], payment_method_types: ['bancontact'],
    payment_intent_data: { capture_method: 'manual' } }),
  (e) => e.statusCode === 400 && e.param === 'payment_intent_data[capture_method]' && /bancontact/.test(e.message));
  await assert.rejects(stripe.checkout.sessions.create({ ...base, line_items: [{ price: eurPrice.id, quantity: 1 }], payment_method_types: ['card', 'ideal'],
    payment_intent_data: { setup_future_usage: 'on_session' } }),
  (e) => e.statusCode === 400 && e.param === 'payment_intent_data[setup_future_usage]');
  await assert.rejects(stripe.checkout.sessions.create({ ...base, line_items: [{ price: eurPrice.id, quantity: 1 }], payment_method_types: ['ideal'],
    shipping_address_collection: { allowed_countries: ['NL'] } }),
  (e) => e.statusCode === 400 && e.param === 'shipping_address_collection');
  const monthly = await stripe.prices.create({ currency: 'eur', unit_amount: 500, recurring: { interval: 'month' }, product_data: { name: 'Box' } });
  await assert.rejects(stripe.checkout.sessions.create({ mode: 'subscription', success_url: 'https://shop.example/ok',
    line_items: [{ price: monthly.id, quantity: 1 }], payment_method_types: ['ideal', 'klarna'] }),
  (e) => e.statusCode === 400 && e.param === 'payment_method_types' && /klarna in `payment` mode only/.test(e.message));
  assert.equal((await stripe.checkout.sessions.list({ limit: 100 })).data.length, before);
  await assert.rejects(stripe.paymentLinks.create({ line_items: [{ price: usd.id, quantity: 1 }], payment_method_types: ['ideal'] }),
    (e) => e.statusCode === 400 && e.param === 'payment_method_types' && /eur/.test(e.message));
  await assert.rejects(stripe.paymentLinks.create({ line_items: [{ price: eurPrice.id, quantity: 1 }], payment_method_types: ['bancontact'],
    payment_intent_data: { capture_method: 'manual' } }),
  (e) => e.statusCode === 400 && e.param === 'payment_intent_data[capture_method]');
});

// ---- iDEAL and Bancontact in setup-mode Checkout Sessions ----

function setupSessionOf(types, extra = {}) {
  return stripe.checkout.sessions.create({
    mode: 'setup',
    currency: 'eur',
    payment_method_types: types,
    success_url: `http://127.0.0.1:${shopPort}/ok?session_id={CHECKOUT_SESSION_ID}`,
    cancel_url: `http://127.0.0.1:${shopPort}/cancel`,
    ...extra,
  });
}

// On a setup session's page: the bank redirect form of type filled and posted, landing on the
// bank's test page for the session's SetupIntent.
async function saveWithBank(page, type) {
  await page.locator(`#${type}-email`).fill('jenny@example.com');
  await page.locator(`#${type}-name`).fill('Jenny Rosen');
  if (type === 'ideal') await page.selectOption('#ideal-bank', 'ing');
  await Promise.all([page.waitForURL(/\/redirect\/acct_\w+\/seti_\w+\/[A-Za-z0-9]{32}$/), page.locator(`#${type}-pay`).click()]);
  assert.match(await page.locator('h1').textContent(), type === 'ideal' ? /iDEAL test payment page/ : /Bancontact test payment page/);
  assert.match(await page.locator('body').textContent(), /saving of your account for later SEPA Direct Debit payments/);
}

test('checkout setup mode: iDEAL -> the bank\'s page, authorize -> success_url; the SetupIntent succeeded, the generated sepa_debit with its multi-use mandate saved on the customer, the session complete in the same write; it pays off session', async () => {
  await openBrowser();
  const cus = await stripe.customers.create({ email: 'jenny@example.com' });
  const s = await setupSessionOf(['card', 'ideal', 'bancontact'], { customer: cus.id });
  assert.deepEqual(s.payment_method_types, ['card', 'ideal', 'bancontact']);
  assert.equal(s.setup_intent, null);
  assertStripeShape(s, 'checkout.session');
  const page = await browser.newPage();
  let seti;
  try {
    await page.goto(s.url);
    // beside the card form: iDEAL's and Bancontact's, each saying what the bank's confirmation creates
    assert.equal(await page.locator('#choice-ideal').count(), 1);
    assert.equal(await page.locator('#ideal-mandate').count(), 1);
    assert.equal(await page.locator('#bancontact-mandate').count(), 1);
    assert.match(await page.locator('#ideal-pay').textContent(), /Save bank account/);
    await saveWithBank(page, 'ideal');
    // while the bank waits: the session open, its SetupIntent requires_action
    const waiting = await stripe.checkout.sessions.retrieve(s.id);
    assert.equal(waiting.status, 'open');
    seti = await stripe.setupIntents.retrieve(waiting.setup_intent);
    assert.equal(seti.status, 'requires_action');
    assert.equal(seti.customer, cus.id);
    assert.equal(seti.usage, 'off_session');
    assert.deepEqual(seti.payment_method_types, ['card', 'ideal', 'bancontact']);
    assert.equal(seti.next_action.type, 'redirect_to_url');
    assert.equal(seti.next_action.redirect_to_url.url, page.url());
    assert.match(seti.next_action.redirect_to_url.return_url, new RegExp(`/checkout/${env.merchant.id}/${s.id}/return$`));
    assertStripeShape(seti, 'setup_intent');
    // the return before the bank answered: the page, saying so
    const early = await env.request({ path: `/checkout/${env.merchant.id}/${s.id}/return?redirect_status=succeeded` });
    assert.equal(early.status, 200);
    assert.match(early.body, /has not confirmed yet/);
    await Promise.all([page.waitForURL(/\/ok\?/), page.getByRole('button', { name: 'Authorize test payment' }).click()]);
    assert.equal(new URL(page.url()).searchParams.get('session_id'), s.id);
  } finally {
    await page.close();
  }
  const done = await stripe.checkout.sessions.retrieve(s.id, { expand: ['setup_intent'] });
  assert.equal(done.status, 'complete');
  assert.equal(done.payment_status, 'no_payment_required');
  assert.equal(done.customer, cus.id);
  const si = done.setup_intent;
  assert.equal(si.id, seti.id);
  assert.equal(si.status, 'succeeded');
  assert.equal(si.next_action, null);
  const ideal = await stripe.paymentMethods.retrieve(si.payment_method);
  assert.equal(ideal.type, 'ideal'); // as on Stripe, the intent keeps the ideal one
  assert.equal(ideal.ideal.bank, 'ing');
  assert.equal(ideal.customer, null);
  assertStripeShape(await stripe.setupIntents.retrieve(si.id), 'setup_intent');
  assertStripeShape(await stripe.checkout.sessions.retrieve(s.id), 'checkout.session');
  // the attempt names the generated sepa_debit and its mandate, accepted online on the page
  const att = (await stripe.setupAttempts.list({ setup_intent: si.id })).data;
  assert.deepEqual(att.map((a) => a.status), ['succeeded']);
  const details = att[0].payment_method_details.ideal;
  assert.equal(details.iban_last4, '5264');
  assert.equal(details.verified_name, 'Jenny Rosen');
  assert.equal(details.generated_sepa_debit_mandate, si.mandate);
  assertStripeShape(att[0], 'setup_attempt');
  const gen = await stripe.paymentMethods.retrieve(details.generated_sepa_debit);
  assert.equal(gen.type, 'sepa_debit');
  assert.equal(gen.sepa_debit.country, 'NL');
  assert.equal(gen.customer, cus.id);
  assertStripeShape(gen, 'payment_method');
  const saved = await stripe.customers.listPaymentMethods(cus.id, { type: 'sepa_debit' });
  assert.deepEqual(saved.data.map((m) => m.id), [gen.id]);
  const mandate = await stripe.mandates.retrieve(si.mandate);
  assert.equal(mandate.type, 'multi_use');
  assert.equal(mandate.status, 'active');
  assert.equal(mandate.payment_method, gen.id);
  assert.equal(mandate.customer_acceptance.type, 'online');
  assert.ok(mandate.customer_acceptance.online.ip_address);
  assert.ok(mandate.customer_acceptance.online.user_agent);
  assertStripeShape(mandate, 'mandate');
  // one completion, after the SetupIntent's success, in the same write
  const ev = await completedEvents(s.id);
  assert.equal(ev.length, 1);
  assert.equal(ev[0].data.object.setup_intent, si.id);
  assert.deepEqual(await eventsOf(si.id), ['setup_intent.created', 'setup_intent.requires_action', 'setup_intent.succeeded']);
  // the page and the return now go to success_url, and change nothing
  const again = await env.request({ path: `/checkout/${env.merchant.id}/${s.id}/return?redirect_status=failed` });
  assert.equal(again.status, 303);
  assert.match(again.headers.location, /\/ok\?session_id=cs_/);
  assert.equal((await completedEvents(s.id)).length, 1);
  // the saved account pays off session through the SEPA path, settled by the scheduler
  let next = await stripe.paymentIntents.create({
    amount: 1500, currency: 'eur', customer: cus.id, payment_method: gen.id, payment_method_types: ['sepa_debit'],
    off_session: true, confirm: true,
  });
  assert.equal(next.status, 'processing');
  next = await waitFor(async () => {
    const x = await stripe.paymentIntents.retrieve(next.id);
    return x.status !== 'processing' && x;
  }, 'the off-session SEPA debit to settle', 20000);
  assert.equal(next.status, 'succeeded');
  assert.equal((await stripe.charges.retrieve(next.latest_charge)).payment_method_details.sepa_debit.mandate, mandate.id);
});

test('checkout setup mode: Bancontact failed at the bank -> back on the page saying so, the SetupIntent requires_payment_method; Bancontact again -> saved, the session complete once; the first bank page opens nothing', async () => {
  await openBrowser();
  const cus = await stripe.customers.create({ email: 'jenny@example.com' });
  const s = await setupSessionOf(['bancontact'], { customer: cus.id });
  const page = await browser.newPage();
  let firstUrl;
  let first;
  try {
    await page.goto(s.url);
    assert.equal(await page.locator('#bancontact-mandate').count(), 1);
    await saveWithBank(page, 'bancontact');
    firstUrl = page.url();
    first = (await stripe.checkout.sessions.retrieve(s.id)).setup_intent;
    await Promise.all([page.waitForURL(/\/return\?/), page.getByRole('button', { name: 'Fail test payment' }).click()]);
    assert.match(await page.locator('.error').textContent(), /bank did not confirm/);
    const open = await stripe.checkout.sessions.retrieve(s.id);
    assert.equal(open.status, 'open');
    const failed = await stripe.setupIntents.retrieve(first);
    assert.equal(failed.status, 'requires_payment_method');
    assert.equal(failed.payment_method, null);
    assert.ok(failed.last_setup_error);
    assertStripeShape(failed, 'setup_intent');
    assert.deepEqual((await stripe.customers.listPaymentMethods(cus.id, { type: 'sepa_debit' })).data, []);
    assert.equal((await completedEvents(s.id)).length, 0);
    // a forged success changes nothing: the SetupIntent decides
    const forged = await env.request({ path: `/checkout/${env.merchant.id}/${s.id}/return?setup_intent=${first}&redirect_status=succeeded` });
    assert.equal(forged.status, 402);
    // the buyer tries again on the same page
    await saveWithBank(page, 'bancontact');
    assert.notEqual(page.url(), firstUrl);
    await Promise.all([page.waitForURL(/\/ok\?/), page.getByRole('button', { name: 'Authorize test payment' }).click()]);
  } finally {
    await page.close();
  }
  const done = await stripe.checkout.sessions.retrieve(s.id, { expand: ['setup_intent'] });
  assert.equal(done.status, 'complete');
  assert.equal(done.setup_intent.status, 'succeeded');
  assertStripeShape(await stripe.checkout.sessions.retrieve(s.id), 'checkout.session');
  const att = (await stripe.setupAttempts.list({ setup_intent: done.setup_intent.id })).data;
  const gen = await stripe.paymentMethods.retrieve(att[0].payment_method_details.bancontact.generated_sepa_debit);
  assert.equal(gen.sepa_debit.country, 'BE');
  assert.deepEqual((await stripe.customers.listPaymentMethods(cus.id, { type: 'sepa_debit' })).data.map((m) => m.id), [gen.id]);
  assert.equal((await stripe.mandates.retrieve(done.setup_intent.mandate)).payment_method, gen.id);
  assert.equal((await completedEvents(s.id)).length, 1);
  // the first bank page only says how it ended: nothing to authorize there now
  const stale = await env.request({ path: new URL(firstUrl).pathname });
  assert.doesNotMatch(stale.body, /Authorize test payment/);
  const replay = await post(`${new URL(firstUrl).pathname}/authorize`); // the same answer as before
  assert.equal(replay.status, 303);
  assert.equal(new URL(replay.headers.location).searchParams.get('redirect_status'), 'failed');
  assert.equal((await stripe.setupIntents.retrieve(first)).status, 'requires_payment_method');
  // refusals: iDEAL's currency, a lender in setup mode
  for (const [types, currency, re] of [[['ideal'], 'usd', /currency provided \(usd\)/], [['card', 'klarna'], 'eur', /klarna in `payment` mode only/]]) {
    await assert.rejects(setupSessionOf(types, { currency }), (e) => e.statusCode === 400 && e.param === 'payment_method_types' && re.test(e.message));
  }
});

// ---- iDEAL and Bancontact in subscription-mode Checkout Sessions ----

test('checkout subscription mode: iDEAL -> the bank\'s page, authorize -> success_url; the generated sepa_debit (mandate accepted online) is the subscription\'s default payment method and pays the first invoice off session, paid when the debit settles (async_payment_succeeded)', async () => {
  await openBrowser();
  const monthly = await stripe.prices.create({ currency: 'eur', unit_amount: 900, recurring: { interval: 'month' }, product_data: { name: 'Stroopwafel club' } });
  const s = await stripe.checkout.sessions.create({
    mode: 'subscription',
    line_items: [{ price: monthly.id, quantity: 2 }],
    payment_method_types: ['card', 'ideal', 'bancontact'],
    success_url: `http://127.0.0.1:${shopPort}/ok?session_id={CHECKOUT_SESSION_ID}`,
    cancel_url: `http://127.0.0.1:${shopPort}/cancel`,
  });
  assert.deepEqual(s.payment_method_types, ['card', 'ideal', 'bancontact']);
  assertStripeShape(s, 'checkout.session');
  const page = await browser.newPage();
  try {
    await page.goto(s.url);
    assert.equal(await page.locator('#ideal-mandate').count(), 1);
    assert.match(await page.locator('#ideal-pay').textContent(), /Pay 18\.00 EUR with iDEAL/);
    // a failure first: back on the page saying so, nothing made
    await saveWithBank(page, 'ideal');
    await Promise.all([page.waitForURL(/\/return\?/), page.getByRole('button', { name: 'Fail test payment' }).click()]);
    assert.match(await page.locator('.error').textContent(), /bank did not confirm/);
    const open = await stripe.checkout.sessions.retrieve(s.id);
    assert.equal(open.status, 'open');
    assert.equal(open.subscription, null);
    assert.equal(open.customer, null);
    // then the bank authorizes
    await saveWithBank(page, 'ideal');
    const waiting = await stripe.checkout.sessions.retrieve(s.id);
    assert.equal(waiting.status, 'open');
    assert.equal(waiting.setup_intent, null); // Stripe shows a setup_intent in setup mode only
    await Promise.all([page.waitForURL(/\/ok\?/), page.getByRole('button', { name: 'Authorize test payment' }).click()]);
    assert.equal(new URL(page.url()).searchParams.get('session_id'), s.id);
  } finally {
    await page.close();
  }
  const done = await stripe.checkout.sessions.retrieve(s.id);
  assert.equal(done.status, 'complete');
  assert.ok(['unpaid', 'paid'].includes(done.payment_status), done.payment_status);
  assert.match(done.customer, /^cus_/);
  assert.equal(done.payment_intent, null);
  assertStripeShape(done, 'checkout.session');
  const sub = await stripe.subscriptions.retrieve(done.subscription);
  assert.equal(sub.status, 'active');
  assert.equal(sub.customer, done.customer);
  assert.equal(sub.latest_invoice, done.invoice);
  // the renewals' payment method: the account the bank reported, saved on the customer made
  const gen = await stripe.paymentMethods.retrieve(sub.default_payment_method);
  assert.equal(gen.type, 'sepa_debit');
  assert.equal(gen.sepa_debit.country, 'NL');
  assert.equal(gen.sepa_debit.last4, '5264');
  assert.equal(gen.customer, done.customer);
  assert.equal(gen.billing_details.name, 'Jenny Rosen');
  assertStripeShape(gen, 'payment_method');
  assert.deepEqual((await stripe.customers.listPaymentMethods(done.customer, { type: 'sepa_debit' })).data.map((m) => m.id), [gen.id]);
  const cus = await stripe.customers.retrieve(done.customer);
  assert.equal(cus.email, 'jenny@example.com');
  // the first invoice debited off session under the mandate accepted on the page
  const pi0 = await invoiceLatestPi(stripe, { id: done.invoice, customer: done.customer });
  assert.equal(pi0.amount, 1800);
  assert.equal(pi0.payment_method, gen.id);
  const completed = (await completedEvents(s.id))[0];
  assert.equal(completed.data.object.payment_status, 'unpaid');
  assert.equal(completed.data.object.subscription, sub.id);
  assert.equal((await completedEvents(s.id)).length, 1);
  const settled = await waitFor(async () => {
    const inv = await stripe.invoices.retrieve(done.invoice);
    return inv.status === 'paid' && inv;
  }, 'the first invoice\'s debit to settle', 30000);
  assert.equal(settled.amount_paid, 1800);
  const charge = await stripe.charges.retrieve((await stripe.paymentIntents.retrieve(pi0.id)).latest_charge);
  assert.equal(charge.payment_method_details.type, 'sepa_debit');
  const mandate = await stripe.mandates.retrieve(charge.payment_method_details.sepa_debit.mandate);
  assert.equal(mandate.type, 'multi_use');
  assert.equal(mandate.payment_method, gen.id);
  assert.equal(mandate.customer_acceptance.type, 'online');
  assert.equal(mandate.customer_acceptance.online.ip_address, '127.0.0.1');
  assertStripeShape(mandate, 'mandate');
  const paid = await waitFor(async () => {
    const x = await stripe.checkout.sessions.retrieve(s.id);
    return x.payment_status === 'paid' && x;
  }, 'the session to be paid', 30000);
  assertStripeShape(paid, 'checkout.session');
  const evs = (await stripe.events.list({ limit: 100 })).data.filter((e) => e.data.object.id === s.id).map((e) => e.type).reverse();
  assert.deepEqual(evs, ['checkout.session.completed', 'checkout.session.async_payment_succeeded']);
  // the return now goes to success_url and changes nothing
  const again = await env.request({ path: `/checkout/${env.merchant.id}/${s.id}/return?redirect_status=failed` });
  assert.equal(again.status, 303);
  assert.equal((await completedEvents(s.id)).length, 1);
});

test('checkout subscription mode: Bancontact for the session\'s customer -> the generated sepa_debit saved on it once, the subscription\'s default payment method', async () => {
  await openBrowser();
  const cus = await stripe.customers.create({ email: 'jenny@example.com' });
  const monthly = await stripe.prices.create({ currency: 'eur', unit_amount: 700, recurring: { interval: 'month' }, product_data: { name: 'Frites club' } });
  const s = await stripe.checkout.sessions.create({
    mode: 'subscription', customer: cus.id,
    line_items: [{ price: monthly.id, quantity: 1 }],
    payment_method_types: ['bancontact'],
    success_url: `http://127.0.0.1:${shopPort}/ok?session_id={CHECKOUT_SESSION_ID}`,
  });
  const page = await browser.newPage();
  try {
    await page.goto(s.url);
    await saveWithBank(page, 'bancontact');
    await Promise.all([page.waitForURL(/\/ok\?/), page.getByRole('button', { name: 'Authorize test payment' }).click()]);
  } finally {
    await page.close();
  }
  const done = await stripe.checkout.sessions.retrieve(s.id);
  assert.equal(done.status, 'complete');
  assert.equal(done.customer, cus.id);
  const sub = await stripe.subscriptions.retrieve(done.subscription);
  assert.equal(sub.status, 'active');
  const saved = await stripe.customers.listPaymentMethods(cus.id, { type: 'sepa_debit' });
  assert.deepEqual(saved.data.map((m) => m.id), [sub.default_payment_method]);
  assert.equal(saved.data[0].sepa_debit.country, 'BE');
  const pi0 = await invoiceLatestPi(stripe, { id: done.invoice, customer: cus.id });
  assert.equal(pi0.payment_method, sub.default_payment_method);
  assert.equal(pi0.amount, 700);
  assertStripeShape(await stripe.checkout.sessions.retrieve(s.id), 'checkout.session');
});

test('checkout subscription mode with a trial: iDEAL saves the generated sepa_debit as the default payment method, nothing charged', async () => {
  await openBrowser();
  const monthly = await stripe.prices.create({ currency: 'eur', unit_amount: 900, recurring: { interval: 'month' }, product_data: { name: 'Trial club' } });
  const s = await stripe.checkout.sessions.create({
    mode: 'subscription', line_items: [{ price: monthly.id, quantity: 1 }], payment_method_types: ['ideal'],
    subscription_data: { trial_period_days: 14 },
    success_url: `http://127.0.0.1:${shopPort}/ok?session_id={CHECKOUT_SESSION_ID}`,
  });
  assert.equal(s.amount_total, 0);
  const page = await browser.newPage();
  try {
    await page.goto(s.url);
    await saveWithBank(page, 'ideal');
    await Promise.all([page.waitForURL(/\/ok\?/), page.getByRole('button', { name: 'Authorize test payment' }).click()]);
  } finally {
    await page.close();
  }
  const done = await stripe.checkout.sessions.retrieve(s.id);
  assert.equal(done.status, 'complete');
  assert.equal(done.payment_status, 'no_payment_required');
  assertStripeShape(done, 'checkout.session');
  const sub = await stripe.subscriptions.retrieve(done.subscription);
  assert.equal(sub.status, 'trialing');
  const saved = await stripe.customers.listPaymentMethods(done.customer, { type: 'sepa_debit' });
  assert.deepEqual(saved.data.map((m) => m.id), [sub.default_payment_method]);
  assert.equal((await stripe.charges.list({ customer: done.customer })).data.length, 0);
  assert.equal((await completedEvents(s.id)).length, 1);
});

// ---- Affirm, Afterpay / Clearpay and Klarna in Checkout Sessions and payment links ----

const usdPrices = {};
async function usdPrice(amount) {
  if (!usdPrices[amount]) usdPrices[amount] = await stripe.prices.create({ currency: 'usd', unit_amount: amount, product_data: { name: `Thing ${amount}` } });
  return usdPrices[amount];
}
async function bnplSession(types, amount, extra = {}) {
  await openBrowser();
  return stripe.checkout.sessions.create({
    mode: 'payment',
    line_items: [{ price: (await usdPrice(amount)).id, quantity: 1 }],
    payment_method_types: types,
    success_url: `http://127.0.0.1:${shopPort}/ok?session_id={CHECKOUT_SESSION_ID}`,
    ...extra,
  });
}

// The lender's form on the checkout page filled (fields by type) and posted, landing on its test page.
async function payBnpl(page, type, heading) {
  const f = (name) => page.locator(`#${type}-form [name="${name}"]`);
  await page.locator(`#${type}-email`).fill('jenny@example.com');
  if (type !== 'klarna') await page.locator(`#${type}-name`).fill('Jenny Rosen');
  if (type === 'afterpay_clearpay') await f('payment_method_data[billing_details][address][line1]').fill('1 Main St');
  if (type !== 'affirm') await page.locator(`#${type}-country`).fill('US');
  if (await page.locator(`#${type}-form [name="shipping[name]"]`).count()) {
    await f('shipping[name]').fill('Ada Lovelace');
    await f('shipping[address][line1]').fill('12 Ship Lane');
    await f('shipping[address][city]').fill('Portland');
    await f('shipping[address][country]').selectOption('US');
  }
  await Promise.all([page.waitForURL(/\/redirect\/acct_\w+\/pi_\w+\/[A-Za-z0-9]{32}$/), page.locator(`#${type}-pay`).click()]);
  assert.match(await page.locator('h1').textContent(), new RegExp(`${heading} test payment page`));
}

test('checkout: Klarna beside the card -> the lender\'s page, authorize -> success_url; session complete and paid in the same write, charge of the total, events, payment_method_options', async () => {
  const s = await bnplSession(['card', 'klarna'], 5000, { payment_method_options: { klarna: { setup_future_usage: 'none' } } });
  assert.deepEqual(s.payment_method_types, ['card', 'klarna']);
  assert.deepEqual(s.payment_method_options, { klarna: { setup_future_usage: 'none' } });
  assertStripeShape(s, 'checkout.session');
  const page = await browser.newPage();
  try {
    await page.goto(s.url);
    assert.equal(await page.locator('#choice-card').count(), 1);
    assert.equal(await page.locator('#choice-klarna').count(), 1);
    assert.equal(await page.locator('#number').count(), 1);
    assert.equal(await page.locator('#klarna-name').count(), 0); // Klarna asks for email and country only
    await payBnpl(page, 'klarna', 'Klarna');
    const waiting = await stripe.checkout.sessions.retrieve(s.id);
    assert.equal(waiting.status, 'open');
    const piWaiting = await stripe.paymentIntents.retrieve(waiting.payment_intent);
    assert.equal(piWaiting.status, 'requires_action');
    assert.deepEqual(piWaiting.payment_method_types, ['card', 'klarna']);
    assert.equal(piWaiting.setup_future_usage, null);
    assert.match(piWaiting.next_action.redirect_to_url.return_url, new RegExp(`/checkout/${env.merchant.id}/${s.id}/return$`));
    await Promise.all([page.waitForURL(/\/ok\?/), page.getByRole('button', { name: 'Authorize test payment' }).click()]);
    assert.equal(new URL(page.url()).searchParams.get('session_id'), s.id);
  } finally {
    await page.close();
  }
  const done = await stripe.checkout.sessions.retrieve(s.id, { expand: ['payment_intent.latest_charge'] });
  assert.equal(done.status, 'complete');
  assert.equal(done.payment_status, 'paid');
  assert.equal(done.customer_details.email, 'jenny@example.com');
  assert.equal(done.customer_details.address.country, 'US');
  const pi = done.payment_intent;
  assert.equal(pi.status, 'succeeded');
  assert.equal(pi.amount_received, 5000);
  const ch = pi.latest_charge;
  assert.equal(ch.amount, 5000);
  assert.equal(ch.amount_captured, 5000);
  assert.equal(ch.currency, 'usd');
  assert.equal(ch.payment_method_details.type, 'klarna');
  assert.equal(ch.billing_details.email, 'jenny@example.com');
  assertStripeShape(ch, 'charge');
  assertStripeShape(await stripe.paymentIntents.retrieve(pi.id), 'payment_intent');
  assertStripeShape(await stripe.checkout.sessions.retrieve(s.id), 'checkout.session');
  assert.deepEqual(await eventsOf(pi.id), ['payment_intent.created', 'payment_intent.requires_action', 'payment_intent.succeeded']);
  assert.deepEqual(await eventsOf(ch.id), ['charge.succeeded']);
  const ev = await completedEvents(s.id);
  assert.equal(ev.length, 1);
  assert.equal(ev[0].data.object.payment_status, 'paid');
  assert.equal(ev[0].data.object.payment_intent, pi.id);
});

test('checkout: Afterpay with shipping_address_collection -> the collected address is the intent\'s and the charge\'s shipping; paid', async () => {
  const s = await bnplSession(['card', 'afterpay_clearpay'], 4500, { shipping_address_collection: { allowed_countries: ['US', 'CA'] } });
  assert.deepEqual(s.payment_method_types, ['card', 'afterpay_clearpay']);
  assertStripeShape(s, 'checkout.session');
  const page = await browser.newPage();
  try {
    await page.goto(s.url);
    // the card form and Afterpay's each ask for the shipping address, their ids apart
    assert.equal(await page.locator('#ship_name').count(), 1);
    assert.equal(await page.locator('#afterpay_clearpay-ship_name').count(), 1);
    assert.equal(await page.locator('label[for="afterpay_clearpay-ship_country"]').count(), 1);
    await payBnpl(page, 'afterpay_clearpay', 'Afterpay');
    await Promise.all([page.waitForURL(/\/ok\?/), page.getByRole('button', { name: 'Authorize test payment' }).click()]);
  } finally {
    await page.close();
  }
  const done = await stripe.checkout.sessions.retrieve(s.id, { expand: ['payment_intent.latest_charge'] });
  assert.equal(done.status, 'complete');
  assert.equal(done.payment_status, 'paid');
  assert.equal(done.shipping_details.name, 'Ada Lovelace');
  assert.equal(done.shipping_details.address.line1, '12 Ship Lane');
  const pi = done.payment_intent;
  assert.equal(pi.status, 'succeeded');
  assert.equal(pi.shipping.name, 'Ada Lovelace');
  assert.equal(pi.shipping.address.city, 'Portland');
  const ch = pi.latest_charge;
  assert.equal(ch.amount, 4500);
  assert.equal(ch.payment_method_details.type, 'afterpay_clearpay');
  assert.equal(ch.shipping.address.line1, '12 Ship Lane');
  assert.equal(ch.billing_details.name, 'Jenny Rosen');
  assertStripeShape(ch, 'charge');
  assertStripeShape(await stripe.checkout.sessions.retrieve(s.id), 'checkout.session');
  assert.equal((await completedEvents(s.id)).length, 1);
});

test('checkout: Afterpay failed at the lender -> the page again saying so; the billing address was the shipping; a form missing what the lender needs writes nothing', async () => {
  const s = await bnplSession(['card', 'afterpay_clearpay', 'klarna'], 3000);
  // checked again on the server: Klarna without a billing country shows the page, makes nothing
  const bad = await env.request({
    method: 'POST', path: `/checkout/${env.merchant.id}/${s.id}`,
    body: 'payment_method_data%5Btype%5D=klarna&payment_method_data%5Bbilling_details%5D%5Bemail%5D=jenny%40example.com',
  });
  assert.equal(bad.status, 400);
  assert.match(bad.body, /billing country/);
  assert.match(bad.body, /id="klarna-form"/);
  const untouched = await stripe.checkout.sessions.retrieve(s.id);
  assert.equal(untouched.payment_intent, null);
  const page = await browser.newPage();
  try {
    await page.goto(s.url);
    assert.equal(await page.locator('#afterpay_clearpay-ships-to').count(), 1);
    await payBnpl(page, 'afterpay_clearpay', 'Afterpay');
    await Promise.all([page.waitForURL(/\/return\?/), page.getByRole('button', { name: 'Fail test payment' }).click()]);
    assert.match(await page.locator('.error').textContent(), /payment failed/i);
    assert.equal(await page.locator('#afterpay_clearpay-form').count(), 1);
  } finally {
    await page.close();
  }
  const open = await stripe.checkout.sessions.retrieve(s.id);
  assert.equal(open.status, 'open');
  assert.equal(open.payment_status, 'unpaid');
  const pi = await stripe.paymentIntents.retrieve(open.payment_intent);
  assert.equal(pi.status, 'requires_payment_method');
  assert.equal(pi.last_payment_error.code, 'payment_intent_payment_attempt_failed');
  assert.equal(pi.latest_charge, null);
  assert.equal(pi.shipping.name, 'Jenny Rosen');
  assert.equal(pi.shipping.address.line1, '1 Main St');
  assert.equal(pi.shipping.address.country, 'US');
  assertStripeShape(pi, 'payment_intent');
  assert.equal((await completedEvents(s.id)).length, 0);
});

test('checkout: Affirm with payment_intent_data[capture_method]=manual -> authorized, session paid, intent requires_capture; capture works', async () => {
  const s = await bnplSession(['card', 'affirm'], 7500, { payment_intent_data: { capture_method: 'manual' } });
  assert.deepEqual(s.payment_method_types, ['card', 'affirm']);
  const page = await browser.newPage();
  try {
    await page.goto(s.url);
    await payBnpl(page, 'affirm', 'Affirm');
    await Promise.all([page.waitForURL(/\/ok\?/), page.getByRole('button', { name: 'Authorize test payment' }).click()]);
  } finally {
    await page.close();
  }
  const done = await stripe.checkout.sessions.retrieve(s.id);
  assert.equal(done.status, 'complete');
  assert.equal(done.payment_status, 'paid');
  assertStripeShape(done, 'checkout.session');
  let pi = await stripe.paymentIntents.retrieve(done.payment_intent);
  assert.equal(pi.status, 'requires_capture');
  assert.equal(pi.capture_method, 'manual');
  assert.equal(pi.amount_capturable, 7500);
  assert.equal(pi.amount_received, 0);
  assert.equal((await completedEvents(s.id)).length, 1);
  pi = await stripe.paymentIntents.capture(pi.id);
  assert.equal(pi.status, 'succeeded');
  assert.equal(pi.amount_received, 7500);
  const ch = await stripe.charges.retrieve(pi.latest_charge);
  assert.equal(ch.captured, true);
  assert.equal(ch.payment_method_details.type, 'affirm');
  assertStripeShape(ch, 'charge');
});

test('checkout and payment link creation with affirm / afterpay_clearpay / klarna: currency, setup and subscription mode, amount limits (hidden, or a 400 when alone), setup_future_usage; nothing made', async () => {
  await openBrowser();
  if (!eurPrice) eurPrice = await stripe.prices.create({ currency: 'eur', unit_amount: 1250, product_data: { name: 'Stroopwafels' } });
  const small = await usdPrice(1000);
  const base = { mode: 'payment', success_url: 'https://shop.example/ok' };
  const before = (await stripe.checkout.sessions.list({ limit: 100 })).data.length;
  const linksBefore = (await stripe.paymentLinks.list({ limit: 100 })).data.length;
  await assert.rejects(stripe.checkout.sessions.create({ ...base, line_items: [{ price: eurPrice.id, quantity: 1 }], payment_method_types: ['card', 'affirm'] }),
    (e) => e.statusCode === 400 && e.param === 'payment_method_types' && /currency provided \(eur\).*affirm.*usd, cad/.test(e.message));
  await assert.rejects(stripe.checkout.sessions.create({ mode: 'setup', currency: 'usd', success_url: 'https://shop.example/ok', payment_method_types: ['klarna'] }),
    (e) => e.statusCode === 400 && e.param === 'payment_method_types' && /klarna/.test(e.message));
  const monthly = await stripe.prices.create({ currency: 'usd', unit_amount: 500, recurring: { interval: 'month' }, product_data: { name: 'Box' } });
  await assert.rejects(stripe.checkout.sessions.create({ mode: 'subscription', success_url: 'https://shop.example/ok',
    line_items: [{ price: monthly.id, quantity: 1 }], payment_method_types: ['card', 'afterpay_clearpay'] }),
  (e) => e.statusCode === 400 && e.param === 'payment_method_types');
  // Affirm alone below its 50.00 minimum: Stripe's amount error
  await assert.rejects(stripe.checkout.sessions.create({ ...base, line_items: [{ price: small.id, quantity: 1 }], payment_method_types: ['affirm'] }),
    (e) => e.statusCode === 400 && e.code === 'amount_too_small' && /50\.00 and 30000\.00 usd for affirm/.test(e.message));
  await assert.rejects(stripe.checkout.sessions.create({ ...base, line_items: [{ price: small.id, quantity: 1 }], payment_method_types: ['klarna'],
    payment_intent_data: { setup_future_usage: 'off_session' } }),
  (e) => e.statusCode === 400 && e.param === 'payment_intent_data[setup_future_usage]' && /klarna/.test(e.message));
  await assert.rejects(stripe.checkout.sessions.create({ ...base, line_items: [{ price: small.id, quantity: 1 }], payment_method_types: ['klarna'],
    payment_method_options: { klarna: { setup_future_usage: 'off_session' } } }),
  (e) => e.statusCode === 400 && e.param === 'payment_method_options[klarna][setup_future_usage]');
  await assert.rejects(stripe.checkout.sessions.create({ ...base, line_items: [{ price: small.id, quantity: 1 }], payment_method_types: ['klarna'],
    custom_fields: [{ key: 'note', label: { type: 'custom', custom: 'Note' }, type: 'text' }] }),
  (e) => e.statusCode === 400 && e.param === 'custom_fields');
  assert.equal((await stripe.checkout.sessions.list({ limit: 100 })).data.length, before);
  await assert.rejects(stripe.paymentLinks.create({ line_items: [{ price: eurPrice.id, quantity: 1 }], payment_method_types: ['afterpay_clearpay'] }),
    (e) => e.statusCode === 400 && e.param === 'payment_method_types' && /afterpay_clearpay/.test(e.message));
  await assert.rejects(stripe.paymentLinks.create({ line_items: [{ price: small.id, quantity: 1 }], payment_method_types: ['affirm'] }),
    (e) => e.statusCode === 400 && e.code === 'amount_too_small');
  assert.equal((await stripe.paymentLinks.list({ limit: 100 })).data.length, linksBefore);
  // beside the card, a lender the total does not fit is not offered on the page
  const s = await stripe.checkout.sessions.create({ ...base, line_items: [{ price: small.id, quantity: 1 }], payment_method_types: ['card', 'affirm', 'klarna'] });
  assert.deepEqual(s.payment_method_types, ['card', 'affirm', 'klarna']);
  assertStripeShape(s, 'checkout.session');
  const pageHtml = await env.request({ path: new URL(s.url).pathname });
  assert.equal(pageHtml.status, 200);
  assert.doesNotMatch(pageHtml.body, /id="affirm-form"/);
  assert.match(pageHtml.body, /id="klarna-form"/);
  // and a post for it anyway is refused without writing
  const refused = await env.request({
    method: 'POST', path: new URL(s.url).pathname,
    body: 'payment_method_data%5Btype%5D=affirm&payment_method_data%5Bbilling_details%5D%5Bemail%5D=a%40b.co&payment_method_data%5Bbilling_details%5D%5Bname%5D=A+B',
  });
  assert.equal(refused.status, 400);
  assert.equal((await stripe.checkout.sessions.retrieve(s.id)).payment_intent, null);
});

test('payment link with card and klarna: each payment\'s session offers Klarna, which pays it', async () => {
  await openBrowser();
  const link = await stripe.paymentLinks.create({
    line_items: [{ price: (await usdPrice(6000)).id, quantity: 1 }],
    payment_method_types: ['card', 'klarna'],
    after_completion: { type: 'redirect', redirect: { url: `http://127.0.0.1:${shopPort}/ok?link=2` } },
  });
  assert.deepEqual(link.payment_method_types, ['card', 'klarna']);
  assertStripeShape(link, 'payment_link');
  const page = await browser.newPage();
  try {
    await page.goto(link.url);
    assert.equal(await page.locator('#klarna-form').count(), 1);
    assert.equal(await page.locator('#number').count(), 1);
    await payBnpl(page, 'klarna', 'Klarna');
    await Promise.all([page.waitForURL(/\/ok\?link=2/), page.getByRole('button', { name: 'Authorize test payment' }).click()]);
  } finally {
    await page.close();
  }
  const sessions = await stripe.checkout.sessions.list({ payment_link: link.id });
  assert.equal(sessions.data.length, 1);
  const s = await stripe.checkout.sessions.retrieve(sessions.data[0].id, { expand: ['payment_intent.latest_charge'] });
  assert.equal(s.status, 'complete');
  assert.equal(s.payment_status, 'paid');
  assert.deepEqual(s.payment_method_types, ['card', 'klarna']);
  assert.equal(s.payment_intent.latest_charge.amount, 6000);
  assert.equal(s.payment_intent.latest_charge.payment_method_details.type, 'klarna');
  assertStripeShape(await stripe.checkout.sessions.retrieve(s.id), 'checkout.session');
  assert.equal((await completedEvents(s.id)).length, 1);
});

test('tender verify passes: the redirect payments\' ledger, acquirer holds and refunds agree', async () => {
  assert.match(tender(['verify', '--data', env.dataDir]), /verify: ok/);
});
