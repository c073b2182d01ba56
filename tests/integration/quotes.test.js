'use strict';
// Quotes through stripe-node (stripe.quotes.*): create → finalize → accept makes a one-off
// invoice of the one-time lines (paid through the invoice's own finalize and pay, the customer's
// default card charged) or a subscription of the recurring lines (its first invoice paid by the
// subscription create's own payment), with a coupon priced as invoices price it; `computed`
// totals checked by hand; updates refused once open; cancel; expiry by the scheduler; list
// filters; another merchant's 404; an idempotent replay of accept makes one invoice; `currency`
// with prices' currency_options. Objects are checked against Stripe's OpenAPI spec.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { startTender, stopAll, tender } = require('./helpers');
const { billingShape, clockAdvance } = require('./billing_helpers');

let env;
let stripe;
let product;
let once; // 1,000 usd one-time
let twice; // 250 usd one-time
let monthly; // 2,000 usd a month
let monthly2; // 300 usd a month

before(async () => {
  env = await startTender({ merchants: 2 });
  stripe = env.stripe();
  product = await stripe.products.create({ name: 'Consulting' });
  once = await stripe.prices.create({ currency: 'usd', unit_amount: 1000, product: product.id });
  twice = await stripe.prices.create({ currency: 'usd', unit_amount: 250, product: product.id });
  monthly = await stripe.prices.create({ currency: 'usd', unit_amount: 2000, product: product.id, recurring: { interval: 'month' } });
  monthly2 = await stripe.prices.create({ currency: 'usd', unit_amount: 300, product: product.id, recurring: { interval: 'month' } });
});
after(stopAll);

const quoteShape = (q) => billingShape(q, 'quote');
const itemShape = (it) => billingShape(it, 'item');

async function customerWithCard(pm = 'pm_card_visa') {
  return stripe.customers.create({
    email: 'jenny@example.com', payment_method: pm, invoice_settings: { default_payment_method: pm },
  });
}

async function eventsOf(id) {
  return (await stripe.events.list({ limit: 100 })).data.filter((e) => e.data.object.id === id).map((e) => e.type).reverse();
}

test('one-time lines with a coupon: computed by hand, finalized, accepted into an invoice that the card pays', async () => {
  const cus = await customerWithCard();
  const coupon = await stripe.coupons.create({ percent_off: 10, duration: 'once' });
  const q = await stripe.quotes.create({
    customer: cus.id,
    line_items: [{ price: once.id, quantity: 3 }, { price: twice.id, quantity: 1 }],
    discounts: [{ coupon: coupon.id }],
    description: 'Three days of consulting', header: 'Quote', footer: 'Thanks',
    metadata: { deal: '42' },
  });
  quoteShape(q);
  assert.equal(q.status, 'draft');
  assert.equal(q.number, null);
  assert.equal(q.collection_method, 'charge_automatically');
  // 3 × 1000 + 250 = 3250; 10 % off each line: 300 + 25 = 325
  assert.equal(q.amount_subtotal, 3250);
  assert.equal(q.amount_total, 2925);
  assert.equal(q.total_details.amount_discount, 325);
  assert.equal(q.computed.upfront.amount_subtotal, 3250);
  assert.equal(q.computed.upfront.amount_total, 2925);
  assert.equal(q.computed.recurring, null);
  assert.ok(q.expires_at - q.created === 30 * 86400, 'expires in 30 days by default');
  assert.equal(q.metadata.deal, '42');

  const lines = await stripe.quotes.listLineItems(q.id);
  assert.equal(lines.data.length, 2);
  for (const it of lines.data) itemShape(it);
  assert.deepEqual(lines.data.map((l) => [l.amount_subtotal, l.amount_discount, l.amount_total]), [[3000, 300, 2700], [250, 25, 225]]);
  const up = await stripe.quotes.listComputedUpfrontLineItems(q.id);
  assert.equal(up.data.length, 2);
  assert.equal(up.data[0].price.id, once.id);
  // paged, and every page auto-paginated
  const page = await stripe.quotes.listLineItems(q.id, { limit: 1 });
  assert.equal(page.has_more, true);
  const rest = await stripe.quotes.listLineItems(q.id, { limit: 1, starting_after: page.data[0].id });
  assert.deepEqual(rest.data.map((l) => l.id), [lines.data[1].id]);
  assert.equal(rest.has_more, false);
  const walked = [];
  for await (const l of stripe.quotes.listLineItems(q.id, { limit: 1 })) walked.push(l.id);
  assert.deepEqual(walked, lines.data.map((l) => l.id));
  // the includable lists, expanded
  const x = await stripe.quotes.retrieve(q.id, { expand: ['line_items', 'computed.upfront.line_items'] });
  quoteShape(x);
  assert.deepEqual(x.line_items.data.map((l) => l.id), lines.data.map((l) => l.id));
  assert.equal(x.computed.upfront.line_items.data.length, 2);
  assert.equal(x.computed.upfront.amount_total, 2925);

  // a draft takes updates
  const upd = await stripe.quotes.update(q.id, { line_items: [{ price: once.id, quantity: 2 }], description: 'Two days' });
  assert.equal(upd.amount_subtotal, 2000);
  assert.equal(upd.amount_total, 1800);
  assert.equal(upd.description, 'Two days');

  const open = await stripe.quotes.finalizeQuote(q.id);
  quoteShape(open);
  assert.equal(open.status, 'open');
  assert.match(open.number, /^QT-[0-9A-Z]+-0001-1$/);
  assert.ok(open.status_transitions.finalized_at > 0);
  await assert.rejects(stripe.quotes.update(q.id, { description: 'late' }), (e) => e.statusCode === 400);
  await assert.rejects(stripe.quotes.finalizeQuote(q.id), (e) => e.statusCode === 400);

  const key = `accept-${q.id}`;
  const acc = await stripe.quotes.accept(q.id, {}, { idempotencyKey: key });
  quoteShape(acc);
  assert.equal(acc.status, 'accepted');
  assert.ok(acc.invoice.startsWith('in_'));
  assert.equal(acc.subscription, null);
  assert.equal(acc.discounts.length, 1);
  // the replay answers the same and makes nothing more
  const again = await stripe.quotes.accept(q.id, {}, { idempotencyKey: key });
  assert.equal(again.invoice, acc.invoice);
  const invs = await stripe.invoices.list({ customer: cus.id });
  assert.equal(invs.data.length, 1);
  await assert.rejects(stripe.quotes.accept(q.id), (e) => e.statusCode === 400);

  const inv = invs.data[0];
  assert.equal(inv.id, acc.invoice);
  assert.equal(inv.status, 'draft');
  assert.equal(inv.auto_advance, true);
  assert.equal(inv.subtotal, 2000);
  assert.equal(inv.total, 1800);
  const fin = await stripe.invoices.finalizeInvoice(inv.id, { auto_advance: false });
  assert.equal(fin.amount_due, 1800);
  const paid = await stripe.invoices.pay(inv.id);
  assert.equal(paid.status, 'paid');
  assert.equal(paid.amount_paid, 1800);

  assert.deepEqual(await eventsOf(q.id), ['quote.created', 'quote.finalized', 'quote.accepted']);
});

test('recurring lines: accepted into a subscription whose first invoice is paid; computed.recurring', async () => {
  const cus = await customerWithCard();
  const fiver = await stripe.coupons.create({ amount_off: 500, currency: 'usd', duration: 'forever' });
  const q = await stripe.quotes.create({
    customer: cus.id,
    line_items: [{ price: monthly.id, quantity: 2 }, { price: monthly2.id }],
    discounts: [{ coupon: fiver.id }],
    subscription_data: { metadata: { plan: 'team' }, description: 'Team plan' },
  });
  quoteShape(q);
  // stripe-node 23's API version: flexible, as Quote.SubscriptionData.BillingMode shapes it
  assert.deepEqual(q.subscription_data.billing_mode, { flexible: { proration_discounts: 'included' }, type: 'flexible' });
  // 2 × 2000 + 300 = 4300, 500 off spread in proportion: 4300 − 500 = 3800
  assert.equal(q.amount_subtotal, 4300);
  assert.equal(q.amount_total, 3800);
  assert.equal(q.computed.recurring.amount_subtotal, 4300);
  assert.equal(q.computed.recurring.amount_total, 3800);
  assert.equal(q.computed.recurring.interval, 'month');
  assert.equal(q.computed.recurring.interval_count, 1);
  assert.equal(q.computed.upfront.amount_total, 3800);
  const lines = await stripe.quotes.listLineItems(q.id);
  // 500 × 4000 / 4300 = 465.1 → 465, 500 × 300 / 4300 = 34.9 → 35
  assert.deepEqual(lines.data.map((l) => l.amount_discount), [465, 35]);

  await stripe.quotes.finalizeQuote(q.id);
  const key = `accept-${q.id}`;
  const acc = await stripe.quotes.accept(q.id, {}, { idempotencyKey: key });
  quoteShape(acc);
  assert.equal(acc.status, 'accepted');
  assert.ok(acc.subscription.startsWith('sub_'));
  const again = await stripe.quotes.accept(q.id, {}, { idempotencyKey: key });
  assert.equal(again.subscription, acc.subscription);
  assert.equal((await stripe.subscriptions.list({ customer: cus.id })).data.length, 1);
  assert.equal((await stripe.paymentIntents.list({ customer: cus.id })).data.length, 1);
  assert.ok(acc.invoice.startsWith('in_'));
  const sub = await stripe.subscriptions.retrieve(acc.subscription);
  assert.equal(sub.status, 'active');
  assert.equal(sub.customer, cus.id);
  assert.equal(sub.metadata.plan, 'team');
  assert.equal(sub.description, 'Team plan');
  assert.equal(sub.billing_mode.type, 'flexible');
  assert.equal(acc.subscription_data.description, 'Team plan');
  assert.equal(sub.items.data.length, 2);
  const inv = await stripe.invoices.retrieve(acc.invoice);
  assert.equal(inv.status, 'paid');
  assert.equal(inv.amount_paid, 3800);
  assert.deepEqual(await eventsOf(q.id), ['quote.created', 'quote.finalized', 'quote.accepted']);
});

test('a trial: nothing upfront, the subscription trialing', async () => {
  const cus = await customerWithCard();
  const q = await stripe.quotes.create({
    customer: cus.id, line_items: [{ price: monthly.id }], subscription_data: { trial_period_days: 14, billing_mode: { type: 'classic' } },
  });
  assert.equal(q.subscription_data.trial_period_days, 14);
  assert.deepEqual(q.subscription_data.billing_mode, { type: 'classic' });
  assert.equal(q.computed.upfront.amount_total, 0);
  assert.equal(q.computed.recurring.amount_total, 2000);
  await stripe.quotes.finalizeQuote(q.id);
  const acc = await stripe.quotes.accept(q.id);
  const sub = await stripe.subscriptions.retrieve(acc.subscription);
  assert.equal(sub.status, 'trialing');
  assert.deepEqual([sub.billing_mode.type, sub.billing_mode.flexible], ['classic', null]);
});

test('a promotion code: redeemed by the invoice the acceptance makes, not before', async () => {
  const cus = await customerWithCard();
  const coupon = await stripe.coupons.create({ amount_off: 300, currency: 'usd', duration: 'once' });
  const promo = await stripe.promotionCodes.create({ promotion: { type: 'coupon', coupon: coupon.id }, code: 'QUOTE300' });
  const q = await stripe.quotes.create({ customer: cus.id, line_items: [{ price: once.id }], discounts: [{ promotion_code: promo.id }] });
  assert.equal(q.amount_total, 700);
  await stripe.quotes.finalizeQuote(q.id);
  assert.equal((await stripe.promotionCodes.retrieve(promo.id)).times_redeemed, 0);
  const acc = await stripe.quotes.accept(q.id);
  const inv = await stripe.invoices.retrieve(acc.invoice);
  assert.equal(inv.total, 700);
  assert.deepEqual(inv.discounts, acc.discounts);
  assert.equal((await stripe.promotionCodes.retrieve(promo.id)).times_redeemed, 1);
});

test('refusals: mixed lines, send_invoice, another currency, unknown customer', async () => {
  const cus = await customerWithCard();
  await assert.rejects(stripe.quotes.create({ customer: cus.id, line_items: [{ price: once.id }, { price: monthly.id }] }),
    (e) => e.statusCode === 400 && e.param === 'line_items');
  await assert.rejects(stripe.quotes.create({ customer: cus.id, collection_method: 'send_invoice', line_items: [{ price: once.id }] }),
    (e) => e.statusCode === 400 && e.param === 'invoice_settings[days_until_due]');
  const eur = await stripe.prices.create({ currency: 'eur', unit_amount: 100, product: product.id });
  await assert.rejects(stripe.quotes.create({ customer: cus.id, line_items: [{ price: once.id }, { price: eur.id }] }),
    (e) => e.statusCode === 400);
  await assert.rejects(stripe.quotes.create({ customer: 'cus_nope', line_items: [{ price: once.id }] }),
    (e) => e.statusCode === 404);
});

test('price_data lines, cancel, list filters, another merchant 404, a draft has no pdf', async () => {
  const cus = await customerWithCard();
  const a = await stripe.quotes.create({
    customer: cus.id, line_items: [{ price_data: { currency: 'usd', unit_amount: 700, product: product.id }, quantity: 2 }],
  });
  assert.equal(a.amount_total, 1400);
  const b = await stripe.quotes.create({ customer: cus.id, line_items: [{ price: once.id }] });
  await stripe.quotes.finalizeQuote(b.id);
  const c = await stripe.quotes.cancel(b.id);
  quoteShape(c);
  assert.equal(c.status, 'canceled');
  assert.ok(c.status_transitions.canceled_at > 0);
  await assert.rejects(stripe.quotes.accept(b.id), (e) => e.statusCode === 400);
  await assert.rejects(stripe.quotes.cancel(b.id), (e) => e.statusCode === 400);

  const drafts = await stripe.quotes.list({ customer: cus.id, status: 'draft' });
  assert.deepEqual(drafts.data.map((x) => x.id), [a.id]);
  const canceled = await stripe.quotes.list({ customer: cus.id, status: 'canceled' });
  assert.deepEqual(canceled.data.map((x) => x.id), [b.id]);
  const all = await stripe.quotes.list({ customer: cus.id, limit: 1 });
  assert.equal(all.data.length, 1);
  assert.equal(all.has_more, true);
  const next = await stripe.quotes.list({ customer: cus.id, limit: 1, starting_after: all.data[0].id });
  assert.equal(next.data[0].id, a.id);

  const other = env.stripe(env.merchants[1].secret_key);
  await assert.rejects(other.quotes.retrieve(a.id), (e) => e.statusCode === 404);
  await assert.rejects(other.quotes.accept(a.id), (e) => e.statusCode === 404);
  await assert.rejects(other.quotes.create({ customer: cus.id, line_items: [{ price: once.id }] }), (e) => e.statusCode === 404);
  assert.equal((await other.quotes.list()).data.length, 0);

  // a draft has no PDF (400); a finalized quote has one, canceled or not (documents.test.js)
  const res = await env.request({ path: `/v1/quotes/${a.id}/pdf`, key: env.merchants[0].secret_key });
  assert.equal(res.status, 400);
  assert.equal(res.json.error.type, 'invalid_request_error');
  const pdf = await env.request({ path: `/v1/quotes/${b.id}/pdf`, key: env.merchants[0].secret_key });
  assert.equal(pdf.status, 200);
  assert.equal(pdf.headers['content-type'], 'application/pdf');
  const gone = await env.request({ path: `/v1/quotes/${a.id}/pdf`, key: env.merchants[1].secret_key });
  assert.equal(gone.status, 404);
});

test('expiry: an open quote past expires_at is canceled by the scheduler', async () => {
  const cus = await customerWithCard();
  const q = await stripe.quotes.create({ customer: cus.id, line_items: [{ price: once.id }] });
  const now = Math.floor(Date.now() / 1000);
  const open = await stripe.quotes.finalizeQuote(q.id, { expires_at: now + 2 });
  assert.equal(open.expires_at, now + 2);
  let got;
  for (let i = 0; i < 100; i++) {
    got = await stripe.quotes.retrieve(q.id);
    if (got.status !== 'open') break;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(got.status, 'canceled');
  assert.equal(got.status_transitions.canceled_at, now + 2);
  assert.deepEqual(await eventsOf(q.id), ['quote.created', 'quote.finalized', 'quote.canceled']);
});

test("a test-clock customer's quote expires on the clock's time", async () => {
  const start = Math.floor(Date.now() / 1000) - 60 * 86400;
  const clock = await stripe.testHelpers.testClocks.create({ frozen_time: start });
  const cus = await stripe.customers.create({ test_clock: clock.id, payment_method: 'pm_card_visa', invoice_settings: { default_payment_method: 'pm_card_visa' } });
  const q = await stripe.quotes.create({ customer: cus.id, line_items: [{ price: once.id }] });
  assert.equal(q.created, start);
  assert.equal(q.test_clock, clock.id);
  assert.equal(q.expires_at, start + 30 * 86400); // already past in real time
  await stripe.quotes.finalizeQuote(q.id);
  assert.deepEqual((await stripe.quotes.list({ test_clock: clock.id })).data.map((x) => x.id), [q.id]);
  await new Promise((r) => setTimeout(r, 1200)); // a couple of scheduler ticks
  assert.equal((await stripe.quotes.retrieve(q.id)).status, 'open');
  await clockAdvance(stripe, clock, start + 31 * 86400);
  let got;
  for (let i = 0; i < 100; i++) {
    got = await stripe.quotes.retrieve(q.id);
    if (got.status !== 'open') break;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(got.status, 'canceled');
  assert.equal(got.status_transitions.canceled_at, start + 30 * 86400);
});

test('currency: lines priced through the prices\' currency_options; totals, PDF, the invoice and the subscription in it', async () => {
  const fee = await stripe.prices.create({ currency: 'usd', unit_amount: 1000, product: product.id, currency_options: { eur: { unit_amount: 900 } } });
  const extra = await stripe.prices.create({ currency: 'usd', unit_amount: 250, product: product.id, currency_options: { eur: { unit_amount: 230 } } });
  const plan = await stripe.prices.create({
    currency: 'usd', unit_amount: 2000, product: product.id, recurring: { interval: 'month' }, currency_options: { eur: { unit_amount: 1800 } },
  });
  const cus = await customerWithCard();
  const tenOff = await stripe.coupons.create({ percent_off: 10, duration: 'once' });
  const q = await stripe.quotes.create({
    customer: cus.id, currency: 'eur', discounts: [{ coupon: tenOff.id }],
    line_items: [{ price: fee.id, quantity: 3 }, { price: extra.id }],
  });
  quoteShape(q);
  assert.equal(q.currency, 'eur');
  // 3 × 9.00 + 2.30 = 29.30, 10 % off: 26.37
  assert.deepEqual([q.amount_subtotal, q.amount_total, q.total_details.amount_discount], [2930, 2637, 293]);
  assert.deepEqual([q.computed.upfront.amount_subtotal, q.computed.upfront.amount_total], [2930, 2637]);
  const lines = await stripe.quotes.listLineItems(q.id);
  lines.data.forEach(itemShape);
  assert.deepEqual(lines.data.map((l) => [l.currency, l.amount_subtotal, l.price.id]), [['eur', 2700, fee.id], ['eur', 230, extra.id]]);
  // the PDF shows the euro amounts
  await stripe.quotes.finalizeQuote(q.id);
  const chunks = [];
  for await (const c of await stripe.quotes.pdf(q.id)) chunks.push(c);
  const { execFileSync } = require('node:child_process');
  const text = execFileSync('pdftotext', ['-layout', '-', '-'], { input: Buffer.concat(chunks) }).toString('utf8');
  assert.match(text, /3\s+9\.00 EUR\s+27\.00 EUR/);
  assert.match(text, /Total\s+26\.37 EUR/);
  // accepted: a draft invoice in eur whose items are the options' amounts, paid by the card
  const acc = await stripe.quotes.accept(q.id);
  quoteShape(acc);
  // auto_advance off: the scheduler would otherwise charge it at once, racing the pay below
  const inv = await stripe.invoices.finalizeInvoice(acc.invoice, { auto_advance: false });
  assert.deepEqual([inv.currency, inv.subtotal, inv.total], ['eur', 2930, 2637]);
  assert.deepEqual(inv.lines.data.map((l) => [l.amount, l.currency]).sort((a, b) => a[0] - b[0]), [[230, 'eur'], [2700, 'eur']]);
  const paid = await stripe.invoices.pay(inv.id);
  billingShape(paid, 'invoice');
  assert.deepEqual([paid.status, paid.amount_paid], ['paid', 2637]);

  // recurring lines: the subscription is made in eur, its first invoice at the option's amount
  const rq = await stripe.quotes.create({ customer: cus.id, currency: 'eur', line_items: [{ price: plan.id, quantity: 2 }] });
  quoteShape(rq);
  assert.deepEqual([rq.currency, rq.amount_total, rq.computed.recurring.amount_total], ['eur', 3600, 3600]);
  await stripe.quotes.finalizeQuote(rq.id);
  const racc = await stripe.quotes.accept(rq.id);
  const sub = await stripe.subscriptions.retrieve(racc.subscription);
  billingShape(sub, 'subscription');
  assert.equal(sub.currency, 'eur');
  const first = await stripe.invoices.retrieve(racc.invoice);
  billingShape(first, 'invoice');
  assert.deepEqual([first.currency, first.status, first.amount_paid], ['eur', 'paid', 3600]);
});

test('currency on update, and refusals: a price without an entry for it, a price_data in another one', async () => {
  const fee = await stripe.prices.create({ currency: 'usd', unit_amount: 1000, product: product.id, currency_options: { eur: { unit_amount: 900 } } });
  const cus = await customerWithCard();
  // refused at create: once (usd only), a price_data in usd; nothing kept
  await assert.rejects(stripe.quotes.create({ customer: cus.id, currency: 'eur', line_items: [{ price: fee.id }, { price: once.id }] }),
    (e) => e.statusCode === 400 && e.param === 'line_items[1][price]' && /currency_options/.test(e.message));
  await assert.rejects(stripe.quotes.create({
    customer: cus.id, currency: 'eur', line_items: [{ price_data: { currency: 'usd', product: product.id, unit_amount: 100 } }],
  }), (e) => e.statusCode === 400 && e.param === 'line_items[0][price_data][currency]');
  await assert.rejects(stripe.quotes.create({ customer: cus.id, currency: 'xyz', line_items: [{ price: fee.id }] }),
    (e) => e.statusCode === 400 && e.param === 'currency');
  assert.equal((await stripe.quotes.list({ customer: cus.id })).data.length, 0);
  // a usd draft moved to eur: its lines priced again in eur
  const q = await stripe.quotes.create({ customer: cus.id, line_items: [{ price: fee.id, quantity: 2 }] });
  assert.deepEqual([q.currency, q.amount_total], ['usd', 2000]);
  const eur = await stripe.quotes.update(q.id, { currency: 'eur' });
  quoteShape(eur);
  assert.deepEqual([eur.currency, eur.amount_subtotal, eur.amount_total], ['eur', 1800, 1800]);
  const lines = await stripe.quotes.listLineItems(q.id);
  lines.data.forEach(itemShape);
  assert.deepEqual(lines.data.map((l) => [l.currency, l.amount_total]), [['eur', 1800]]);
  // new lines keep the quote's currency; one with no entry for it is refused, the quote unchanged
  const more = await stripe.quotes.update(q.id, { line_items: [{ price: fee.id, quantity: 3 }] });
  assert.deepEqual([more.currency, more.amount_total], ['eur', 2700]);
  await assert.rejects(stripe.quotes.update(q.id, { line_items: [{ price: once.id }] }),
    (e) => e.statusCode === 400 && e.param === 'line_items[0][price]');
  await assert.rejects(stripe.quotes.update(q.id, { currency: 'gbp' }), (e) => e.statusCode === 400 && e.param === 'currency');
  const kept = await stripe.quotes.retrieve(q.id);
  assert.deepEqual([kept.currency, kept.amount_total], ['eur', 2700]);
  // back to usd with usd lines
  const back = await stripe.quotes.update(q.id, { currency: 'usd', line_items: [{ price: once.id }] });
  assert.deepEqual([back.currency, back.amount_total], ['usd', 1000]);
});

test('Connect terms: application_fee_amount and transfer_data on a one-time quote reach its invoice\'s payment; a recurring quote\'s application_fee_percent, transfer_data and on_behalf_of its subscription\'s', async () => {
  const acct = await stripe.accounts.create({ type: 'express', country: 'US', email: 'partner@example.com' });
  const cus = await customerWithCard();
  // refused, nothing made: Stripe's rules on the lines, unknown accounts, a fee without a destination
  for (const [params, param] of [
    [{ line_items: [{ price: monthly.id }], application_fee_amount: 100, transfer_data: { destination: acct.id } }, 'application_fee_amount'],
    [{ line_items: [{ price: once.id }], application_fee_percent: 10, transfer_data: { destination: acct.id } }, 'application_fee_percent'],
    [{ line_items: [{ price: monthly.id }], transfer_data: { destination: acct.id, amount: 100 } }, 'transfer_data[amount]'],
    [{ line_items: [{ price: once.id }], transfer_data: { destination: acct.id, amount_percent: 50 } }, 'transfer_data[amount_percent]'],
    [{ line_items: [{ price: once.id }], application_fee_amount: 100 }, 'application_fee_amount'],
    [{ line_items: [{ price: once.id }], application_fee_amount: 5000, transfer_data: { destination: acct.id } }, 'application_fee_amount'],
    [{ line_items: [{ price: once.id }], on_behalf_of: 'acct_nope' }, 'on_behalf_of'],
    [{ line_items: [{ price: once.id }], transfer_data: { destination: 'acct_nope' } }, 'transfer_data[destination]'],
  ]) {
    await assert.rejects(stripe.quotes.create({ customer: cus.id, ...params }),
      (e) => e.statusCode === 400 && e.param === param, JSON.stringify(params));
  }
  assert.equal((await stripe.quotes.list({ customer: cus.id })).data.length, 0);

  // one-time: 2 × 10.00, a fee of 1.50, the rest to the account
  const q = await stripe.quotes.create({
    customer: cus.id, line_items: [{ price: once.id, quantity: 2 }],
    application_fee_amount: 150, transfer_data: { destination: acct.id }, on_behalf_of: acct.id,
  });
  quoteShape(q);
  assert.equal(q.application_fee_amount, 150);
  assert.equal(q.application_fee_percent, null);
  assert.deepEqual(q.transfer_data, { amount: null, amount_percent: null, destination: acct.id });
  assert.equal(q.on_behalf_of, acct.id);
  const upd = await stripe.quotes.update(q.id, { application_fee_amount: 200 });
  assert.equal(upd.application_fee_amount, 200);
  await stripe.quotes.finalizeQuote(q.id);
  const acc = await stripe.quotes.accept(q.id);
  await stripe.invoices.finalizeInvoice(acc.invoice, { auto_advance: false });
  const paid = await stripe.invoices.pay(acc.invoice);
  assert.equal(paid.status, 'paid');
  const pi = (await stripe.paymentIntents.list({ customer: cus.id })).data[0];
  assert.equal(pi.amount, 2000);
  assert.equal(pi.application_fee_amount, 200);
  assert.deepEqual(pi.transfer_data, { destination: acct.id });
  assert.equal(pi.on_behalf_of, acct.id);
  const ch = await stripe.charges.retrieve(pi.latest_charge);
  assert.equal((await stripe.transfers.retrieve(ch.transfer)).amount, 2000);
  assert.equal((await stripe.applicationFees.retrieve(ch.application_fee)).amount, 200);

  // recurring: the subscription takes the percentage; its first invoice's charge pays it
  const cus2 = await customerWithCard();
  const rq = await stripe.quotes.create({
    customer: cus2.id, line_items: [{ price: monthly.id }], transfer_data: { destination: acct.id, amount_percent: 90 },
  });
  quoteShape(rq);
  assert.deepEqual(rq.transfer_data, { amount: null, amount_percent: 90, destination: acct.id });
  // a fee beside amount_percent is refused, as a subscription refuses it
  await assert.rejects(stripe.quotes.update(rq.id, { application_fee_percent: 15 }),
    (e) => e.statusCode === 400 && e.param === 'application_fee_percent');
  const rq2 = await stripe.quotes.create({
    customer: cus2.id, line_items: [{ price: monthly.id }],
    application_fee_percent: 15, transfer_data: { destination: acct.id }, on_behalf_of: acct.id,
  });
  await stripe.quotes.finalizeQuote(rq2.id);
  const racc = await stripe.quotes.accept(rq2.id);
  const sub = await stripe.subscriptions.retrieve(racc.subscription);
  assert.equal(sub.application_fee_percent, 15);
  assert.deepEqual(sub.transfer_data, { amount_percent: null, destination: acct.id });
  assert.equal(sub.on_behalf_of, acct.id);
  const spi = (await stripe.paymentIntents.list({ customer: cus2.id })).data[0];
  assert.equal(spi.amount, 2000);
  assert.equal(spi.application_fee_amount, 300);
  assert.deepEqual(spi.transfer_data, { destination: acct.id });
  // '' unsets on a draft
  const q3 = await stripe.quotes.create({ customer: cus2.id, line_items: [{ price: once.id }], application_fee_amount: 10, transfer_data: { destination: acct.id } });
  const un = await stripe.quotes.update(q3.id, { application_fee_amount: '', transfer_data: '' });
  quoteShape(un);
  assert.equal(un.application_fee_amount, null);
  assert.equal(un.transfer_data, null);
});

test('from_quote: a clone (any status) and a revision of an open quote, which its finalization numbers after and cancels; test_clock', async () => {
  const cus = await customerWithCard();
  const rate = await stripe.taxRates.create({ display_name: 'VAT', percentage: 20, inclusive: false });
  const src = await stripe.quotes.create({
    customer: cus.id, line_items: [{ price: once.id, quantity: 2 }], description: 'Original', header: 'H',
    default_tax_rates: [rate.id], metadata: { deal: '7' },
  });
  // a clone of a draft: its lines (new ids), texts, tax rates; the request's parameters on top
  const clone = await stripe.quotes.create({ from_quote: { quote: src.id }, description: 'Copy' });
  quoteShape(clone);
  assert.deepEqual(clone.from_quote, { is_revision: false, quote: src.id });
  assert.equal(clone.customer, cus.id);
  assert.equal(clone.description, 'Copy');
  assert.equal(clone.header, 'H');
  assert.deepEqual(clone.metadata, { deal: '7' });
  assert.deepEqual(clone.default_tax_rates.map((t) => t.id ?? t), [rate.id]);
  assert.equal(clone.amount_total, src.amount_total);
  const [a, b] = [await stripe.quotes.listLineItems(src.id), await stripe.quotes.listLineItems(clone.id)];
  assert.deepEqual(b.data.map((l) => [l.price.id, l.quantity]), a.data.map((l) => [l.price.id, l.quantity]));
  assert.notEqual(b.data[0].id, a.data[0].id);
  // a revision needs an open quote
  await assert.rejects(stripe.quotes.create({ from_quote: { quote: src.id, is_revision: true } }),
    (e) => e.statusCode === 400 && e.param === 'from_quote[quote]');
  await assert.rejects(stripe.quotes.create({ from_quote: { quote: 'qt_nope' } }),
    (e) => e.statusCode === 404 && e.param === 'from_quote[quote]');
  const open = await stripe.quotes.finalizeQuote(src.id);
  const rev = await stripe.quotes.create({ from_quote: { quote: src.id, is_revision: true }, line_items: [{ price: once.id, quantity: 3 }] });
  assert.deepEqual(rev.from_quote, { is_revision: true, quote: src.id });
  assert.equal(rev.amount_subtotal, 3000);
  const fin = await stripe.quotes.finalizeQuote(rev.id);
  quoteShape(fin);
  assert.equal(fin.number, open.number.replace(/-1$/, '-2'));
  const old = await stripe.quotes.retrieve(src.id);
  assert.equal(old.status, 'canceled');
  assert.deepEqual(await eventsOf(src.id), ['quote.created', 'quote.finalized', 'quote.canceled']);
  // test_clock: the customer's clock, named; another is refused
  const clock = await stripe.testHelpers.testClocks.create({ frozen_time: Math.floor(Date.now() / 1000) - 86400 });
  const other = await stripe.testHelpers.testClocks.create({ frozen_time: Math.floor(Date.now() / 1000) - 86400 });
  const cc = await stripe.customers.create({ test_clock: clock.id });
  const tq = await stripe.quotes.create({ customer: cc.id, test_clock: clock.id, line_items: [{ price: once.id }] });
  assert.equal(tq.test_clock, clock.id);
  assert.equal(tq.created, clock.frozen_time);
  await assert.rejects(stripe.quotes.create({ customer: cc.id, test_clock: other.id, line_items: [{ price: once.id }] }),
    (e) => e.statusCode === 400 && e.param === 'test_clock');
  await assert.rejects(stripe.quotes.create({ customer: cus.id, test_clock: clock.id, line_items: [{ price: once.id }] }),
    (e) => e.statusCode === 400 && e.param === 'test_clock');
  await assert.rejects(stripe.quotes.create({ customer: cc.id, test_clock: 'clock_nope', line_items: [{ price: once.id }] }),
    (e) => e.statusCode === 404 && e.param === 'test_clock');
  await assert.rejects(stripe.quotes.create({ line_items: [{ price: once.id }] }),
    (e) => e.statusCode === 400 && e.code === 'parameter_missing' && e.param === 'customer');
});

test('tender verify passes: the money the accepted quotes moved adds up', async () => {
  assert.match(tender(['verify', '--data', env.dataDir]), /verify: ok/);
});
