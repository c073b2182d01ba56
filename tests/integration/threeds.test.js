'use strict';
// 3-D Secure: requires_action with a challenge page Tender serves itself, driven in headless
// Chromium (Debian's chromium + playwright-core; no browser is ever downloaded).
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const http = require('node:http');
const {startTender, stopAll, assertStripeShape, launchChromium } = require('./helpers');

let env;
let stripe;
let browser;
let shop; // the merchant's site: return_url lands here
let shopPort;

before(async () => {
  env = await startTender();
  stripe = env.stripe();
  shop = http.createServer((req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html' });
    res.end(`<!doctype html><title>Shop</title><h1 id="done">Thanks</h1><p>${req.url.replace(/[<>&]/g, '')}</p>`);
  });
  await new Promise((r) => shop.listen(0, '127.0.0.1', r));
  shopPort = shop.address().port;
  browser = await launchChromium();
});
after(async () => {
  if (browser) await browser.close();
  if (shop) shop.close();
  await stopAll();
});

const card3ds = { type: 'card', card: { number: '4000002760003184', exp_month: 12, exp_year: 2034, cvc: '123' } };

async function requiresAction(extra = {}) {
  const pm = await stripe.paymentMethods.create(card3ds);
  const pi = await stripe.paymentIntents.create({
    amount: 4500, currency: 'eur', payment_method: pm.id, confirm: true,
    return_url: `http://127.0.0.1:${shopPort}/return`, ...extra,
  });
  assert.equal(pi.status, 'requires_action');
  assert.equal(pi.next_action.type, 'redirect_to_url');
  assert.match(pi.next_action.redirect_to_url.url, /^http:\/\/127\.0\.0\.1:\d+\/3ds\//);
  assert.equal(pi.next_action.redirect_to_url.return_url, `http://127.0.0.1:${shopPort}/return`);
  return pi;
}

test('complete the challenge in a browser: intent succeeds, liability shifts', async () => {
  const pi = await requiresAction();
  const page = await browser.newPage();
  const resp = await page.goto(pi.next_action.redirect_to_url.url);
  const csp = resp.headers()['content-security-policy'];
  assert.match(csp, /default-src 'none'/);
  assert.match(await page.textContent('main'), /45\.00 EUR/);
  assert.match(await page.textContent('main'), /Merchant 0/);
  await page.screenshot({ path: `${env.dataDir}/../3ds-challenge.png` });
  await Promise.all([page.waitForURL(/\/return\?/), page.getByRole('button', { name: 'Complete authentication' }).click()]);
  const url = new URL(page.url());
  assert.equal(url.searchParams.get('payment_intent'), pi.id);
  assert.equal(url.searchParams.get('redirect_status'), 'succeeded');
  await page.close();
  const after = await stripe.paymentIntents.retrieve(pi.id, { expand: ['latest_charge'] });
  assert.equal(after.status, 'succeeded');
  assert.equal(after.next_action, null);
  const tds = after.latest_charge.payment_method_details.card.three_d_secure;
  assert.equal(tds.result, 'authenticated');
  // the link cannot be used twice
  const again = await env.request({ path: new URL(pi.next_action.redirect_to_url.url).pathname });
  assert.equal(again.status, 404);
});

test('fail the challenge: intent returns to requires_payment_method', async () => {
  const pi = await requiresAction({ capture_method: 'manual' });
  const page = await browser.newPage();
  await page.goto(pi.next_action.redirect_to_url.url);
  await Promise.all([page.waitForURL(/\/return\?/), page.getByRole('button', { name: 'Fail authentication' }).click()]);
  assert.equal(new URL(page.url()).searchParams.get('redirect_status'), 'failed');
  await page.close();
  const after = await stripe.paymentIntents.retrieve(pi.id);
  assert.equal(after.status, 'requires_payment_method');
  assert.equal(after.last_payment_error.code, 'payment_intent_authentication_failure');
});

test('manual capture after authentication ends in requires_capture', async () => {
  const pi = await requiresAction({ capture_method: 'manual' });
  const page = await browser.newPage();
  await page.goto(pi.next_action.redirect_to_url.url);
  await Promise.all([page.waitForURL(/\/return\?/), page.getByRole('button', { name: 'Complete authentication' }).click()]);
  await page.close();
  assert.equal((await stripe.paymentIntents.retrieve(pi.id)).status, 'requires_capture');
});

test(
    'payment_method_options[card]: request_three_d_secure=any challenges any card; its capture_method overrides the intent\'s',
    async () => {
	    const pi = await stripe.paymentIntents.create({
		    amount : 3000,
		    currency : 'usd',
		    payment_method : 'pm_card_visa',
		    confirm : true,
		    return_url : `http://127.0.0.1:${shopPort}/return`,
		    payment_method_options :
			{card : {request_three_d_secure : 'any', capture_method : 'manual'}},
	    });
	    assert.equal(pi.status, 'requires_action');
	    assert.equal(pi.capture_method, 'automatic');
	    assert.equal(pi.payment_method_options.card.request_three_d_secure, 'any');
	    assert.equal(pi.payment_method_options.card.capture_method, 'manual');
	    assertStripeShape(pi, 'payment_intent');
	    const page = await browser.newPage();
	    await page.goto(pi.next_action.redirect_to_url.url);
	    await Promise.all([
		    page.waitForURL(/\/return\?/),
		    page.getByRole('button', {name : 'Complete authentication'}).click()
	    ]);
	    await page.close();
	    const done = await stripe.paymentIntents.retrieve(pi.id);
	    assert.equal(done.status, 'requires_capture');
	    assert.equal((await stripe.paymentIntents.capture(pi.id)).status, 'succeeded');
	    // the defaults: no capture_method of the card's own, request_three_d_secure automatic
	    const plain = await stripe.paymentIntents.create(
		{amount : 3000, currency : 'usd', payment_method : 'pm_card_visa', confirm : true});
	    assert.equal(plain.status, 'succeeded');
	    assert.equal(plain.payment_method_options.card.request_three_d_secure, 'automatic');
	    assert.ok(!('capture_method' in plain.payment_method_options.card));
	    // set by update, honoured by a later confirm, and unset with ''
	    const u0 = await stripe.paymentIntents.create({amount : 3100, currency : 'usd'});
	    const u1 = await stripe.paymentIntents.update(
		u0.id, {payment_method_options : {card : {capture_method : 'manual'}}});
	    assert.equal(u1.payment_method_options.card.capture_method, 'manual');
	    assert.equal((await stripe.paymentIntents.confirm(u0.id, {
				 payment_method : 'pm_card_visa'
			 })).status,
			 'requires_capture');
	    const v0 = await stripe.paymentIntents.create({
		    amount : 3200,
		    currency : 'usd',
		    payment_method_options : {card : {capture_method : 'manual'}}
	    });
	    const v1 = await stripe.paymentIntents.confirm(v0.id, {
		    payment_method : 'pm_card_visa',
		    payment_method_options : {card : {capture_method : ''}}
	    });
	    assert.equal(v1.status, 'succeeded');
	    assert.ok(!('capture_method' in v1.payment_method_options.card));
	    // off-session, request_three_d_secure=any cannot challenge: authentication_required
	    const off =
		await stripe.paymentIntents
		    .create({
			    amount : 3300,
			    currency : 'usd',
			    payment_method : 'pm_card_visa',
			    confirm : true,
			    off_session : true,
			    payment_method_options : {card : {request_three_d_secure : 'any'}},
		    })
		    .then(() => null, (e) => e);
	    assert.equal(off.code, 'authentication_required');
	    const bad =
		await stripe.paymentIntents
		    .create({
			    amount : 3000,
			    currency : 'usd',
			    payment_method_options : {card : {request_three_d_secure : 'sometimes'}}
		    })
		    .then(() => null, (e) => e);
	    assert.equal(bad.statusCode, 400);
	    assert.equal(bad.param, 'payment_method_options[card][request_three_d_secure]');
    });

test('off-session confirmation of a 3-D Secure card is declined with authentication_required', async () => {
  const pm = await stripe.paymentMethods.create({ type: 'card', card: { number: '4000002500003155', exp_month: 12, exp_year: 2034, cvc: '123' } });
  const err = await stripe.paymentIntents.create({ amount: 1000, currency: 'usd', payment_method: pm.id, confirm: true, off_session: true }).then(() => null, (e) => e);
  assert.ok(err);
  assert.equal(err.statusCode, 402);
  assert.equal(err.code, 'authentication_required');
});

test('3-D Secure test cards: 3178 and 1629 are declined once authenticated; 0446 pays off session without asking', async () => {
  for (const [number, decline] of [['4000008260003178', 'insufficient_funds'], ['4000008400001629', 'generic_decline']]) {
    const pm = await stripe.paymentMethods.create({ type: 'card', card: { number, exp_month: 12, exp_year: 2034, cvc: '123' } });
    const pi = await stripe.paymentIntents.create({ amount: 4500, currency: 'eur', payment_method: pm.id, confirm: true, return_url: `http://127.0.0.1:${shopPort}/return` });
    assert.equal(pi.status, 'requires_action', number);
    // the challenge page's own form, posted as the browser would
    const done = await env.request({ method: 'POST', path: `${new URL(pi.next_action.redirect_to_url.url).pathname}/complete`, body: '' });
    assert.ok(done.status >= 300 && done.status < 400, `${number}: ${done.status}`);
    const after = await stripe.paymentIntents.retrieve(pi.id);
    assert.equal(after.status, 'requires_payment_method', number);
    assert.equal(after.last_payment_error.code, 'card_declined');
    assert.equal(after.last_payment_error.decline_code, decline);
    assert.equal(after.last_payment_error.payment_method.id, pm.id);
    assertStripeShape(after, 'payment_intent');
  }
  const cus = await stripe.customers.create({});
  const pm = await stripe.paymentMethods.attach('pm_card_authenticationRequiredSetupForOffSession', { customer: cus.id });
  const on = await stripe.paymentIntents.create({ amount: 1000, currency: 'usd', customer: cus.id, payment_method: pm.id, confirm: true, return_url: `http://127.0.0.1:${shopPort}/return` });
  assert.equal(on.status, 'requires_action');
  const off = await stripe.paymentIntents.create({ amount: 1000, currency: 'usd', customer: cus.id, payment_method: pm.id, confirm: true, off_session: true });
  assert.equal(off.status, 'succeeded');
});

test('3-D Secure test cards: 1280 fails its lookup and is declined unchallenged; 3097 errors only when asked and pays without it', async () => {
  const return_url = `http://127.0.0.1:${shopPort}/return`;
  // the number and its pm_card_ alias are the same card
  const pm1280 = await stripe.paymentMethods.create({ type: 'card', card: { number: '4000008400001280', exp_month: 12, exp_year: 2034, cvc: '123' } });
  for (const payment_method of [pm1280.id, 'pm_card_threeDSecureRequiredProcessingError']) {
    const err = await stripe.paymentIntents.create({ amount: 4500, currency: 'eur', payment_method, confirm: true, return_url }).then(() => null, (e) => e);
    assert.ok(err, payment_method);
    assert.equal(err.statusCode, 402);
    assert.equal(err.code, 'card_declined');
    assert.equal(err.payment_intent.status, 'requires_payment_method');
    assert.equal(err.payment_intent.next_action, null);
    const ch = await stripe.charges.retrieve(err.payment_intent.latest_charge);
    assert.equal(ch.status, 'failed');
    assert.equal(ch.failure_code, 'card_declined');
    assert.equal(ch.payment_method_details.card.last4, '1280');
  }
  // 3097 is not asked for 3-D Secure by default: it pays like any card
  const plain = await stripe.paymentIntents.create({ amount: 1000, currency: 'usd', payment_method: 'pm_card_threeDSecureOptionalProcessingError', confirm: true, expand: ['latest_charge'] });
  assert.equal(plain.status, 'succeeded');
  assert.equal(plain.latest_charge.payment_method_details.card.three_d_secure, null);
  // asked for (request_three_d_secure=any), the attempt errors and the payment goes on without it
  const asked = { payment_method_options: { card: { request_three_d_secure: 'any' } }, confirm: true, return_url };
  const pi = await stripe.paymentIntents.create({ amount: 1000, currency: 'usd', payment_method: 'pm_card_threeDSecureOptionalProcessingError', expand: ['latest_charge'], ...asked });
  assert.equal(pi.status, 'succeeded');
  const tds = pi.latest_charge.payment_method_details.card.three_d_secure;
  assert.equal(tds.result, 'processing_error');
  assert.equal(tds.authentication_flow, null);
  assertStripeShape(pi.latest_charge, 'charge');
  // while 3055 (3-D Secure optional, working) is challenged when asked
  const ok3055 = await stripe.paymentIntents.create({ amount: 1000, currency: 'usd', payment_method: 'pm_card_threeDSecureOptional', ...asked });
  assert.equal(ok3055.status, 'requires_action');
  // a SetupIntent asked for 3-D Secure with 3097 checks the card without it
  const si = await stripe.setupIntents.create({ payment_method: 'pm_card_threeDSecureOptionalProcessingError', payment_method_types: ['card'], ...asked, expand: ['latest_attempt'] });
  assert.equal(si.status, 'succeeded');
  assert.equal(si.latest_attempt.payment_method_details.card.three_d_secure.result, 'processing_error');
});

test('a wrong token shows a 404 page, not a payment', async () => {
  const pi = await requiresAction();
  const u = new URL(pi.next_action.redirect_to_url.url);
  const bad = u.pathname.replace(/[^/]+$/, 'x'.repeat(32));
  const r = await env.request({ method: 'POST', path: `${bad}/complete`, body: '' });
  assert.equal(r.status, 404);
  assert.equal((await stripe.paymentIntents.retrieve(pi.id)).status, 'requires_action');
  assert.ok(fs.existsSync(env.dataDir));
});

test('a failed challenge whose write PostgreSQL runs again still fails the intent',
  { skip: require('./helpers').PG_SHARD_URLS.length === 0 && 'PostgreSQL only: the write fails mid-way and runs again' }, async () => {
  const { storeSql } = require('./helpers');
  const pi = await requiresAction();
  const si = await stripe.setupIntents.create({
    payment_method: (await stripe.paymentMethods.create(card3ds)).id, confirm: true,
    return_url: `http://127.0.0.1:${shopPort}/return`,
  });
  assert.equal(si.status, 'requires_action');
  // each failure's event fails its first insert with a serialization failure, as a conflict
  // would, after the intent's row was written: the store runs the whole write again, which must
  // start from the intent as the page read it
  storeSql(env.dataDir, `CREATE SEQUENCE IF NOT EXISTS intent_conflict;
    CREATE OR REPLACE FUNCTION intent_conflict() RETURNS trigger AS $$ BEGIN
      IF nextval('intent_conflict') % 2 = 1 THEN RAISE EXCEPTION 'conflict' USING ERRCODE = '40001'; END IF;
      RETURN NEW; END $$ LANGUAGE plpgsql;
    CREATE TRIGGER intent_conflict BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION intent_conflict();`);
  try {
    for (const url of [pi.next_action.redirect_to_url.url, si.next_action.redirect_to_url.url]) {
      const r = await env.request({ method: 'POST', path: `${new URL(url).pathname}/fail`, body: '' });
      assert.ok(r.status === 302 || r.status === 303, `${r.status} ${r.body}`);
      assert.equal(new URL(r.headers.location).searchParams.get('redirect_status'), 'failed');
    }
  } finally {
    storeSql(env.dataDir, 'DROP TRIGGER intent_conflict ON events');
  }
  assert.ok(storeSql(env.dataDir, 'SELECT last_value FROM intent_conflict').some((x) => Number(x) >= 2), 'the failures happened');
  const p = await stripe.paymentIntents.retrieve(pi.id);
  assert.equal(p.status, 'requires_payment_method');
  assert.equal(p.last_payment_error.code, 'payment_intent_authentication_failure');
  const s = await stripe.setupIntents.retrieve(si.id);
  assert.equal(s.status, 'requires_payment_method');
  assert.equal(s.last_setup_error.code, 'setup_intent_authentication_failure');
});
