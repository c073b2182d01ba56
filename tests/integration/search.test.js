'use strict';
// Stripe's Search API through stripe-node: customers, PaymentIntents, charges (their card's
// details and billing postal code too), invoices and subscriptions searched with
// Stripe's query language, pages followed with next_page (and the SDK's auto-pagination),
// refused queries, and tenant isolation.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { startTender, stopAll, assertStripeShape } = require('./helpers');
const { billingShape } = require('./billing_helpers');

let env;
let stripe;
const tag = `t${Date.now()}`;

before(async () => {
  env = await startTender({ merchants: 3, args: ['--rate-limit', '0'] });
  stripe = env.stripe();
});
after(stopAll);

const ids = (res) => res.data.map((o) => o.id);

test('customers: exact email (any case), name and phone substrings, metadata, OR, negation, created', async () => {
  const jenny = await stripe.customers.create({ email: 'Jenny.Rosen@example.com', name: 'Jenny Rosen', phone: '+15555550123', metadata: { tier: 'gold', tag } });
  const bob = await stripe.customers.create({ email: 'bob@example.org', name: 'Bob Stone', metadata: { tier: 'silver', tag } });
  const ann = await stripe.customers.create({ email: 'ann@example.com', name: 'Ann Rose', metadata: { tag } });

  const byEmail = await stripe.customers.search({ query: "email:'jenny.rosen@example.com'" });
  assert.equal(byEmail.object, 'search_result');
  assert.equal(byEmail.url, '/v1/customers/search');
  assert.equal(byEmail.has_more, false);
  assert.equal(byEmail.next_page, null);
  assert.deepEqual(ids(byEmail), [jenny.id]);
  assertStripeShape(byEmail.data[0], 'customer');

  assert.deepEqual(ids(await stripe.customers.search({ query: 'name~"ros"' })), [ann.id, jenny.id]);
  assert.deepEqual(ids(await stripe.customers.search({ query: "phone~'5550123'" })), [jenny.id]);
  assert.deepEqual(ids(await stripe.customers.search({ query: "metadata['tier']:'silver'" })), [bob.id]);
  assert.deepEqual(ids(await stripe.customers.search({ query: `metadata["tag"]:"${tag}" AND -metadata["tier"]:null` })),
    [bob.id, jenny.id]);
  assert.deepEqual(ids(await stripe.customers.search({ query: `metadata["tag"]:"${tag}" AND metadata["tier"]:null` })), [ann.id]);
  assert.deepEqual(ids(await stripe.customers.search({ query: "email:'bob@example.org' OR email:'ann@example.com'" })),
    [ann.id, bob.id]);
  assert.deepEqual(ids(await stripe.customers.search({ query: `metadata['tag']:'${tag}' AND -name~'rose'` })), [bob.id]);
  assert.deepEqual(ids(await stripe.customers.search({ query: `created>=${jenny.created} AND created<=${ann.created} AND metadata['tag']:'${tag}'` })),
    [ann.id, bob.id, jenny.id]);
  assert.deepEqual(ids(await stripe.customers.search({ query: `created>${ann.created + 10}` })), []);
  // keys and values the JSON text holds escaped or in UTF-8
  const odd = await stripe.customers.create({ metadata: { 'café': 'Crème', 'say "hi"': 'yes' } });
  assert.deepEqual(ids(await stripe.customers.search({ query: "metadata['café']:'crème'" })), [odd.id]);
  assert.deepEqual(ids(await stripe.customers.search({ query: 'metadata["say \\"hi\\""]:"yes"' })), [odd.id]);
  // a deleted customer is not found
  await stripe.customers.del(bob.id);
  assert.deepEqual(ids(await stripe.customers.search({ query: "email:'bob@example.org'" })), []);
});

test('pages: limit, next_page, and the SDK\'s auto-pagination', async () => {
  const made = [];
  for (let i = 0; i < 7; i++) made.push((await stripe.customers.create({ email: `page${i}@example.com`, metadata: { batch: `${tag}-p` } })).id);
  const query = `metadata['batch']:'${tag}-p'`;
  const p1 = await stripe.customers.search({ query, limit: 3 });
  assert.equal(p1.has_more, true);
  assert.ok(p1.next_page);
  assert.deepEqual(ids(p1), made.slice(4).reverse());
  const p2 = await stripe.customers.search({ query, limit: 3, page: p1.next_page });
  assert.deepEqual(ids(p2), made.slice(1, 4).reverse());
  const p3 = await stripe.customers.search({ query, limit: 3, page: p2.next_page });
  assert.deepEqual(ids(p3), [made[0]]);
  assert.equal(p3.has_more, false);
  assert.equal(p3.next_page, null);
  const all = await stripe.customers.search({ query, limit: 2 }).autoPagingToArray({ limit: 100 });
  assert.deepEqual(all.map((c) => c.id), [...made].reverse());
});

test('PaymentIntents: metadata, customer, amount ranges, status, currency', async () => {
  const cus = await stripe.customers.create({});
  const a = await stripe.paymentIntents.create({ amount: 1000, currency: 'usd', customer: cus.id, payment_method: 'pm_card_visa', confirm: true, metadata: { order_id: `${tag}-1` } });
  const b = await stripe.paymentIntents.create({ amount: 5000, currency: 'eur', customer: cus.id, metadata: { order_id: `${tag}-2` } });
  const c = await stripe.paymentIntents.create({ amount: 7000, currency: 'usd', payment_method: 'pm_card_visa', confirm: true, metadata: { order_id: `${tag}-3` } });

  const one = await stripe.paymentIntents.search({ query: `metadata['order_id']:'${tag}-2'` });
  assert.deepEqual(ids(one), [b.id]);
  assert.equal(one.url, '/v1/payment_intents/search');
  assertStripeShape(one.data[0], 'payment_intent');
  assert.deepEqual(ids(await stripe.paymentIntents.search({ query: `customer:'${cus.id}'` })), [b.id, a.id]);
  assert.deepEqual(ids(await stripe.paymentIntents.search({ query: `customer:'${cus.id}' AND status:'succeeded'` })), [a.id]);
  assert.deepEqual(ids(await stripe.paymentIntents.search({ query: `status:'succeeded' AND amount>1000 AND created>=${a.created}` })), [c.id]);
  assert.deepEqual(ids(await stripe.paymentIntents.search({ query: `currency:'EUR' AND amount:5000` })), [b.id]);
  assert.deepEqual(ids(await stripe.paymentIntents.search({ query: `metadata['order_id']:'${tag}-1' OR metadata['order_id']:'${tag}-3'` })), [c.id, a.id]);
  // expand[] reaches inside the results
  const ex = await stripe.paymentIntents.search({ query: `metadata['order_id']:'${tag}-1'`, expand: ['data.customer'] });
  assert.equal(ex.data[0].customer.id, cus.id);
});

test('charges: customer, amount, refunded, disputed, status', async () => {
  const cus = await stripe.customers.create({});
  const paid = await stripe.paymentIntents.create({ amount: 2500, currency: 'usd', customer: cus.id, payment_method: 'pm_card_visa', confirm: true });
  const refundedPi = await stripe.paymentIntents.create({ amount: 3500, currency: 'usd', customer: cus.id, payment_method: 'pm_card_visa', confirm: true });
  await stripe.refunds.create({ payment_intent: refundedPi.id });
  await assert.rejects(stripe.paymentIntents.create({ amount: 4500, currency: 'usd', customer: cus.id, payment_method: 'pm_card_chargeDeclined', confirm: true }));

  const all = await stripe.charges.search({ query: `customer:'${cus.id}'` });
  assert.equal(all.data.length, 3);
  assert.equal(all.url, '/v1/charges/search');
  for (const ch of all.data) assertStripeShape(ch, 'charge');
  const refunded = await stripe.charges.search({ query: `customer:'${cus.id}' AND refunded:true` });
  assert.deepEqual(refunded.data.map((c) => c.payment_intent), [refundedPi.id]);
  const failed = await stripe.charges.search({ query: `customer:'${cus.id}' AND status:'failed'` });
  assert.equal(failed.data.length, 1);
  assert.equal(failed.data[0].amount, 4500);
  const kept = await stripe.charges.search({ query: `customer:'${cus.id}' AND status:'succeeded' AND refunded:false AND disputed:false` });
  assert.deepEqual(kept.data.map((c) => c.payment_intent), [paid.id]);
  assert.equal((await stripe.charges.search({ query: `customer:'${cus.id}' AND amount<3000` })).data.length, 1);
});

test("charges: the card's brand, last4, expiry and fingerprint, and the billing postal code", async () => {
  const cus = await stripe.customers.create({});
  const visa = await stripe.paymentIntents.create({ amount: 1100, currency: 'usd', customer: cus.id, payment_method: 'pm_card_visa', confirm: true });
  const mc = await stripe.paymentIntents.create({ amount: 1200, currency: 'usd', customer: cus.id, payment_method: 'pm_card_mastercard', confirm: true });
  const pm = await stripe.paymentMethods.create({
    type: 'card', card: { token: 'tok_visa' },
    billing_details: { address: { postal_code: '94107', country: 'US' }, email: 'zip@example.com' },
  });
  const zip = await stripe.paymentIntents.create({ amount: 1300, currency: 'usd', customer: cus.id, payment_method: pm.id, confirm: true });
  const chargeOf = async (pi) => (await stripe.charges.list({ payment_intent: pi.id })).data[0];
  const [cv, cm, cz] = [await chargeOf(visa), await chargeOf(mc), await chargeOf(zip)];
  const q = async (query) => (await stripe.charges.search({ query: `customer:'${cus.id}' AND ${query}` })).data.map((c) => c.id);

  assert.deepEqual(await q("payment_method_details.card.brand:'mastercard'"), [cm.id]);
  assert.deepEqual(await q("payment_method_details.card.last4:'4242'"), [cz.id, cv.id]);
  assert.deepEqual(await q("-payment_method_details.card.last4:'4242'"), [cm.id]);
  const { exp_month: month, exp_year: year } = cm.payment_method_details.card;
  assert.deepEqual(await q(`payment_method_details.card.exp_month:${month} AND payment_method_details.card.exp_year:${year} AND payment_method_details.card.brand:'mastercard'`), [cm.id]);
  assert.deepEqual(await q(`payment_method_details.card.exp_year>${year + 50}`), []);
  assert.deepEqual(await q(`payment_method_details.card.fingerprint:'${cv.payment_method_details.card.fingerprint}'`), [cz.id, cv.id]);
  // the PaymentMethod's billing details are the charge's, as on Stripe
  assert.equal(cz.billing_details.address.postal_code, '94107');
  assert.equal(cz.billing_details.email, 'zip@example.com');
  assert.deepEqual(await q("billing_details.address.postal_code:'94107'"), [cz.id]);
  assert.deepEqual(await q('billing_details.address.postal_code:null'), [cm.id, cv.id]);
  // without the customer: the whole table is scanned, the card details unpacked row by row
  const all = await stripe.charges.search({ query: `payment_method_details.card.brand:'mastercard' AND amount:1200 AND created>=${cm.created}` });
  assert.deepEqual(all.data.map((c) => c.id), [cm.id]);
  assertStripeShape(all.data[0], 'charge');
  await assert.rejects(stripe.charges.search({ query: "payment_method_details.card.last4>'1'" }),
    (e) => e.statusCode === 400 && e.param === 'query' && /cannot be compared/.test(e.message));
  await assert.rejects(stripe.charges.search({ query: "payment_method_details.card.exp_year:'soon'" }),
    (e) => e.statusCode === 400 && /whole number/.test(e.message));
  await assert.rejects(stripe.charges.search({ query: "payment_method_details.card.cvc:'123'" }),
    (e) => e.statusCode === 400 && /unsupported search field for resource `charges`/.test(e.message));
});

test('invoices: customer, status, total, number, currency, subscription, metadata; fields Tender never fills match only null', async () => {
  const cus = await stripe.customers.create({ email: 'inv-search@example.com', payment_method: 'pm_card_visa', invoice_settings: { default_payment_method: 'pm_card_visa' } });
  const make = async (amount, meta) => {
    const inv = await stripe.invoices.create({ customer: cus.id, metadata: { tag, ...meta } });
    await stripe.invoiceItems.create({ customer: cus.id, amount, currency: 'usd', invoice: inv.id });
    return stripe.invoices.retrieve(inv.id);
  };
  const draft = await make(1500, { kind: 'draft' });
  let open = await make(2500, { kind: 'open' });
  open = await stripe.invoices.finalizeInvoice(open.id, { auto_advance: false });
  let paid = await make(3500, { kind: 'paid' });
  await stripe.invoices.finalizeInvoice(paid.id, { auto_advance: false });
  paid = await stripe.invoices.pay(paid.id);
  assert.equal(paid.status, 'paid');
  const q = async (query) => (await stripe.invoices.search({ query })).data.map((x) => x.id);

  const res = await stripe.invoices.search({ query: `customer:'${cus.id}'` });
  assert.equal(res.url, '/v1/invoices/search');
  assert.deepEqual(res.data.map((x) => x.id), [paid.id, open.id, draft.id]);
  billingShape(res.data[0], 'invoice');
  assert.deepEqual(res.data[0], await stripe.invoices.retrieve(paid.id));
  assert.deepEqual(await q(`customer:'${cus.id}' AND status:'open'`), [open.id]);
  assert.deepEqual(await q(`customer:'${cus.id}' AND total>=2500`), [paid.id, open.id]);
  assert.deepEqual(await q(`number:'${open.number}'`), [open.id]);
  assert.deepEqual(await q(`metadata['tag']:'${tag}' AND metadata['kind']:'draft'`), [draft.id]);
  assert.deepEqual(await q(`customer:'${cus.id}' AND currency:'usd' AND subscription:null AND receipt_number:null AND last_finalization_error_code:null`),
    [paid.id, open.id, draft.id]);
  assert.deepEqual(await q(`customer:'${cus.id}' AND last_finalization_error_type:'card_error'`), []);
  await assert.rejects(stripe.invoices.search({ query: "amount_due:5" }),
    (e) => e.statusCode === 400 && /resource `invoices`/.test(e.message));
  // another merchant finds none of them
  const other = env.stripe(env.merchants[1].secret_key);
  assert.deepEqual((await other.invoices.search({ query: `customer:'${cus.id}'` })).data, []);
});

test('subscriptions: status, metadata, created', async () => {
  const product = await stripe.products.create({ name: `search ${tag}` });
  const price = await stripe.prices.create({ product: product.id, unit_amount: 900, currency: 'usd', recurring: { interval: 'month' } });
  const cus = await stripe.customers.create({ payment_method: 'pm_card_visa', invoice_settings: { default_payment_method: 'pm_card_visa' } });
  const a = await stripe.subscriptions.create({ customer: cus.id, items: [{ price: price.id }], metadata: { tag, plan: 'a' } });
  const b = await stripe.subscriptions.create({ customer: cus.id, items: [{ price: price.id }], metadata: { tag, plan: 'b' } });
  await stripe.subscriptions.cancel(b.id);
  const q = async (query) => (await stripe.subscriptions.search({ query })).data.map((x) => x.id);
  const res = await stripe.subscriptions.search({ query: `metadata['tag']:'${tag}'` });
  assert.equal(res.url, '/v1/subscriptions/search');
  assert.deepEqual(res.data.map((x) => x.id), [b.id, a.id]);
  assert.deepEqual(res.data[0], await stripe.subscriptions.retrieve(b.id));
  assert.deepEqual(await q(`metadata['tag']:'${tag}' AND status:'active'`), [a.id]);
  assert.deepEqual(await q(`metadata['plan']:'b' AND status:'canceled' AND created>=${a.created}`), [b.id]);
  await assert.rejects(stripe.subscriptions.search({ query: `customer:'${cus.id}'` }),
    (e) => e.statusCode === 400 && /resource `subscriptions`/.test(e.message));
  const other = env.stripe(env.merchants[1].secret_key);
  assert.deepEqual((await other.subscriptions.search({ query: `metadata['tag']:'${tag}'` })).data, []);
});

test('refused queries: 400 on query, nothing else', async () => {
  const cases = [
    ['unknown:"x"', /unsupported search field for resource `customers`/],
    ["email:'a@b.c' AND name:'x' OR phone:'y'", /AND and OR cannot be combined/],
    ["name~'ab'", /at least 3 characters/],
    ["email>'x'", /cannot be compared/],
    ['created:soon', /whole number/],
    ["email:'unterminated", /not closed/],
    ["email 'x'", /expected an operator/],
    ["email:'a' email:'b'", /expected AND or OR/],
    ["metadata:'x'", /metadata\["key"\]/],
    [Array.from({ length: 11 }, (_, i) => `email:'e${i}@x.com'`).join(' OR '), /at most 10 clauses/],
    ['', /empty/],
  ];
  for (const [query, re] of cases) {
    await assert.rejects(stripe.customers.search({ query }), (e) => {
      assert.equal(e.statusCode, 400, query);
      assert.equal(e.param, 'query', query);
      assert.match(e.message, re, query);
      return true;
    });
  }
  await assert.rejects(stripe.paymentIntents.search({ query: "email:'x'" }),
    (e) => e.statusCode === 400 && /resource `payment_intents`/.test(e.message));
  await assert.rejects(stripe.charges.search({ query: 'disputed:maybe' }),
    (e) => e.statusCode === 400 && /true or false/.test(e.message));
  await assert.rejects(stripe.customers.search({ query: "email:'x'", limit: 101 }),
    (e) => e.statusCode === 400 && e.param === 'limit');
  await assert.rejects(stripe.customers.search({ query: "email:'x'", page: 'pi_123' }),
    (e) => e.statusCode === 400 && e.param === 'page');
  // query is required
  const r = await env.request({ path: '/v1/customers/search', key: env.merchant.secret_key });
  assert.equal(r.status, 400);
  assert.equal(r.json.error.param, 'query');
});

test('tenants: a search sees only its own merchant', async () => {
  const mine = await stripe.customers.create({ email: `${tag}@tenant.example`, metadata: { tag } });
  const other = env.stripe(env.merchants[1].secret_key);
  assert.deepEqual(ids(await other.customers.search({ query: `email:'${tag}@tenant.example'` })), []);
  assert.deepEqual(ids(await other.paymentIntents.search({ query: `metadata['order_id']:'${tag}-1'` })), []);
  assert.deepEqual(ids(await stripe.customers.search({ query: `email:'${tag}@tenant.example'` })), [mine.id]);
  // another merchant's id as a page bound finds nothing of theirs either
  const theirs = await other.customers.create({ email: `${tag}@tenant.example` });
  const res = await stripe.customers.search({ query: `email:'${tag}@tenant.example'`, page: theirs.id });
  assert.ok(!ids(res).includes(theirs.id));
});

test('a page looks at a bounded number of rows and says where the next one starts', async () => {
  // merchant 2: 5,050 customers, the one searched for made first (the scan goes newest first)
  const s = env.stripe(env.merchants[2].secret_key);
  const first = await s.customers.create({ email: 'needle@example.com' });
  const batch = 50;
  for (let i = 0; i < 5050; i += batch) {
    await Promise.all(Array.from({ length: batch }, (_, k) => s.customers.create({ email: `hay${i + k}@example.com` })));
  }
  const page1 = await s.customers.search({ query: "email:'needle@example.com'" });
  assert.deepEqual(page1.data, []);
  assert.equal(page1.has_more, true);
  const page2 = await s.customers.search({ query: "email:'needle@example.com'", page: page1.next_page });
  assert.deepEqual(ids(page2), [first.id]);
  assert.equal(page2.has_more, false);
  const all = await s.customers.search({ query: "email:'needle@example.com'" }).autoPagingToArray({ limit: 10 });
  assert.deepEqual(all.map((c) => c.id), [first.id]);
});
