'use strict';
// Coupons, promotion codes and discounts through stripe-node: the resources themselves, then
// discounts on subscriptions (durations once / repeating / forever, renewals on a test clock,
// updates, DELETE …/discount), on one-off invoices and on invoice items. Every object is checked
// against Stripe's OpenAPI spec, and money is checked to add up exactly: an invoice's total is
// its subtotal less its discounts, which is the sum of its lines less theirs; a percentage is
// taken off each line rounded to the nearest unit, an amount off is spread so that the lines'
// shares add up to it; a paid invoice's PaymentIntent, charge and balance transaction are its
// amount_due; `tender verify` passes at the end.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { startTender, stopAll, tender, assertStripeShape, launchChromium } = require('./helpers');
const { billingShape, clockReady, clockAdvance } = require('./billing_helpers');

let env;
let stripe;
let other;
const DAY = 86400;
// a renewal's invoice is a draft for an hour before it is finalized and charged (Stripe's)
const HOUR = 3600;
const T0 = Date.UTC(2025, 2, 1, 0, 0, 0) / 1000; // Mar 1
const APR1 = Date.UTC(2025, 3, 1, 0, 0, 0) / 1000;
const MAY1 = Date.UTC(2025, 4, 1, 0, 0, 0) / 1000;
const JUN1 = Date.UTC(2025, 5, 1, 0, 0, 0) / 1000;

before(async () => {
  env = await startTender({ merchants: 2 });
  stripe = env.stripe();
  other = env.stripe(env.merchants[1].secret_key);
});
after(stopAll);


function assertStripeShapeCheckout(s) {
  assertStripeShape(s, 'checkout.session');
}

// and the discount's coupon, which the 2025 shapes moved (source.coupon)
const shape = (obj, schema) => billingShape(obj, schema, [
  /^\$(\.discounts\[\d+\])?\.coupon: missing required property$/,
]);

const ready = (clock) => clockReady(stripe, clock);

const advance = (clock, to) => clockAdvance(stripe, clock, to);

async function eventsFull(id) {
  const all = await stripe.events.list({ limit: 100 }).autoPagingToArray({ limit: 10000 });
  return all.filter((e) => e.data.object.id === id).reverse();
}
async function eventsOf(id) {
  return (await eventsFull(id)).map((e) => e.type);
}

async function setup(pm = 'pm_card_visa', frozen = T0) {
  const clock = await stripe.testHelpers.testClocks.create({ frozen_time: frozen });
  const opts = { test_clock: clock.id, email: 'jenny@example.com' };
  if (pm) Object.assign(opts, { payment_method: pm, invoice_settings: { default_payment_method: pm } });
  const customer = await stripe.customers.create(opts);
  return { clock, customer };
}

// An invoice adds up: subtotal = the lines; total = subtotal − its discounts = the lines less
// theirs; a line's discounts never exceed it; a paid one's payment is its amount_due.
async function assertConserved(inv) {
  const lines = (await stripe.invoices.listLineItems(inv.id, { limit: 100 })).data;
  const sub = lines.reduce((a, l) => a + l.amount, 0);
  const lineOff = lines.reduce((a, l) => a + l.discount_amounts.reduce((b, d) => b + d.amount, 0), 0);
  const totalOff = inv.total_discount_amounts.reduce((a, d) => a + d.amount, 0);
  assert.equal(inv.subtotal, sub, 'subtotal is the sum of the lines');
  assert.equal(totalOff, lineOff, 'the discounts\' sums are their lines\' shares');
  assert.equal(inv.total, sub - totalOff, 'total = subtotal − discounts');
  for (const l of lines) {
    const off = l.discount_amounts.reduce((b, d) => b + d.amount, 0);
    assert.ok(off >= 0 && (l.amount <= 0 ? off === 0 : off <= l.amount), `line ${l.id} discounted within its amount`);
  }
  assert.equal(inv.amount_due, Math.max(0, inv.total));
  if (inv.status === 'paid' && inv.amount_due > 0) {
    const full = await stripe.invoices.retrieve(inv.id, { expand: ['payments'] });
    const pi = await stripe.paymentIntents.retrieve(full.payments.data[0].payment.payment_intent,
      { expand: ['latest_charge.balance_transaction'] });
    assert.equal(pi.status, 'succeeded');
    assert.equal(pi.amount, inv.amount_due);
    assert.equal(pi.latest_charge.amount_captured, inv.amount_due);
    // settled in the account's currency: another currency's payment is converted, not compared
    if (pi.latest_charge.balance_transaction.currency === inv.currency) {
      assert.equal(pi.latest_charge.balance_transaction.amount, inv.amount_due);
    }
    assert.equal(inv.amount_paid, inv.amount_due);
  }
  return lines;
}

// Stripe's rounding of a percentage off one line (p in percent, as a decimal string): to the
// nearest unit, halves up; computed with BigInt in millionths, independently of Tender.
function pctOff(amount, p) {
  const [w, f = ''] = p.split('.');
  const e4 = BigInt(w) * 10000n + BigInt((f + '0000').slice(0, 4));
  return Number((BigInt(amount) * e4 + 500000n) / 1000000n);
}

let product;
let monthly; // 30.00 usd a month
let addon; // 12.50 usd a month, another product

test('coupons: create (percent_off, amount_off, durations, own id), retrieve, update, delete, list, events, refused input', async () => {
  const p = await stripe.coupons.create({ percent_off: 25.5, duration: 'forever', name: 'Quarter-ish', metadata: { k: 'v' } });
  assert.equal(p.object, 'coupon');
  assert.match(p.id, /^[A-Za-z0-9]{8}$/);
  assert.equal(p.percent_off, 25.5);
  assert.equal(p.amount_off, null);
  assert.equal(p.currency, null);
  assert.equal(p.duration, 'forever');
  assert.equal(p.duration_in_months, null);
  assert.equal(p.times_redeemed, 0);
  assert.equal(p.valid, true);
  assert.deepEqual(p.metadata, { k: 'v' });
  shape(p, 'coupon');
  const a = await stripe.coupons.create({ id: 'TENOFF', amount_off: 1000, currency: 'USD', duration: 'repeating', duration_in_months: 3, max_redemptions: 5 });
  assert.equal(a.id, 'TENOFF');
  assert.deepEqual([a.amount_off, a.currency, a.duration_in_months, a.max_redemptions, a.percent_off], [1000, 'usd', 3, 5, null]);
  shape(a, 'coupon');
  const once = await stripe.coupons.create({ percent_off: 100, redeem_by: Math.floor(Date.now() / 1000) + 3600 });
  assert.equal(once.duration, 'once', 'once is the default');
  assert.equal(once.percent_off, 100);
  assert.deepEqual(await stripe.coupons.retrieve('TENOFF'), a);
  const u = await stripe.coupons.update('TENOFF', { name: 'Ten off', metadata: { x: '1' } });
  assert.equal(u.name, 'Ten off');
  assert.deepEqual(u.metadata, { x: '1' });
  const list = await stripe.coupons.list({ limit: 2 });
  assert.deepEqual(list.data.map((c) => c.id), [once.id, 'TENOFF'], 'newest first, by creation, whatever the ids');
  assert.equal(list.has_more, true);
  const page2 = await stripe.coupons.list({ limit: 2, starting_after: 'TENOFF' });
  assert.deepEqual(page2.data.map((c) => c.id), [p.id]);
  const back = await stripe.coupons.list({ limit: 2, ending_before: p.id });
  assert.deepEqual(back.data.map((c) => c.id), [once.id, 'TENOFF']);
  assert.deepEqual((await stripe.coupons.list().autoPagingToArray({ limit: 100 })).map((c) => c.id), [once.id, 'TENOFF', p.id]);
  // applies_to shows when expanded
  const pr = await stripe.products.create({ name: 'Widget' });
  const scoped = await stripe.coupons.create({ percent_off: 10, applies_to: { products: [pr.id] }, expand: ['applies_to'] });
  assert.deepEqual(scoped.applies_to, { products: [pr.id] });
  assert.equal((await stripe.coupons.retrieve(scoped.id)).applies_to, undefined);
  assert.deepEqual((await stripe.coupons.retrieve(scoped.id, { expand: ['applies_to'] })).applies_to, { products: [pr.id] });
  // delete: gone from retrieve and lists; its id is not given again
  const del = await stripe.coupons.del(scoped.id);
  assert.deepEqual(del, { ...del, id: scoped.id, object: 'coupon', deleted: true });
  await assert.rejects(stripe.coupons.retrieve(scoped.id), (e) => e.statusCode === 404);
  assert.ok(!(await stripe.coupons.list({ limit: 100 })).data.some((c) => c.id === scoped.id));
  assert.deepEqual(await eventsOf('TENOFF'), ['coupon.created', 'coupon.updated']);
  assert.deepEqual(await eventsOf(scoped.id), ['coupon.created', 'coupon.deleted']);
  const evs = await eventsFull('TENOFF');
  assert.deepEqual(evs[1].data.previous_attributes, { name: null, metadata: {} });
  // refused, nothing made
  const cases = [
    [{ duration: 'once' }, 'percent_off'],
    [{ percent_off: 10, amount_off: 100, currency: 'usd' }, 'amount_off'],
    [{ percent_off: 0 }, 'percent_off'],
    [{ percent_off: 100.5 }, 'percent_off'],
    [{ percent_off: 12.34567 }, 'percent_off'],
    [{ amount_off: 100 }, 'currency'],
    [{ amount_off: 0, currency: 'usd' }, 'amount_off'],
    [{ amount_off: 100, currency: 'xyz' }, 'currency'],
    [{ percent_off: 5, currency: 'usd' }, 'currency'],
    [{ percent_off: 5, duration: 'repeating' }, 'duration_in_months'],
    [{ percent_off: 5, duration: 'forever', duration_in_months: 2 }, 'duration_in_months'],
    [{ percent_off: 5, redeem_by: 1000 }, 'redeem_by'],
    [{ percent_off: 5, max_redemptions: 0 }, 'max_redemptions'],
    [{ percent_off: 5, id: 'has space' }, 'id'],
    [{ percent_off: 5, id: 'TENOFF' }, 'id'],
    [{ percent_off: 5, id: scoped.id }, 'id'],
    [{ percent_off: 5, applies_to: { products: ['prod_nope'] } }, 'applies_to[products]'],
  ];
  for (const [params, param] of cases) {
    await assert.rejects(stripe.coupons.create(params), (e) => e.statusCode >= 400 && e.statusCode < 500 && e.param === param, JSON.stringify(params));
  }
  await assert.rejects(stripe.coupons.update('TENOFF', { percent_off: 5 }), (e) => e.statusCode === 400);
  await assert.rejects(other.coupons.retrieve('TENOFF'), (e) => e.statusCode === 404);
  assert.equal((await other.coupons.list()).data.length, 0);
  assert.equal((await stripe.coupons.list({ limit: 100 })).data.length, 3);
});

test('promotion codes: create (promotion[coupon] and coupon), retrieve, update, list filters, events, refused input', async () => {
  const c = await stripe.coupons.create({ id: 'FALL', percent_off: 20, duration: 'once' });
  const pc = await stripe.promotionCodes.create({
    promotion: { type: 'coupon', coupon: c.id }, code: 'Fall20', max_redemptions: 3,
    restrictions: { first_time_transaction: true, minimum_amount: 2000, minimum_amount_currency: 'usd' },
    metadata: { campaign: 'fall' },
  });
  assert.match(pc.id, /^promo_/);
  assert.equal(pc.object, 'promotion_code');
  assert.equal(pc.code, 'Fall20');
  assert.equal(pc.active, true);
  assert.deepEqual(pc.promotion, { coupon: 'FALL', type: 'coupon' });
  assert.deepEqual(pc.restrictions, { first_time_transaction: true, minimum_amount: 2000, minimum_amount_currency: 'usd' });
  assert.equal(pc.times_redeemed, 0);
  shape(pc, 'promotion_code');
  const gen = await stripe.promotionCodes.create({ coupon: 'FALL' });
  assert.match(gen.code, /^[A-Z0-9]{8}$/, 'a code is made when none is given');
  assert.equal(gen.restrictions.minimum_amount, null);
  shape(gen, 'promotion_code');
  const expanded = await stripe.promotionCodes.retrieve(pc.id, { expand: ['promotion.coupon'] });
  assert.equal(expanded.promotion.coupon.id, 'FALL');
  assert.equal(expanded.promotion.coupon.percent_off, 20);
  // codes are unique among active ones, whatever their case
  await assert.rejects(stripe.promotionCodes.create({ coupon: 'FALL', code: 'FALL20' }), (e) => e.statusCode === 400 && e.param === 'code');
  const off = await stripe.promotionCodes.update(pc.id, { active: false, metadata: { more: 'x' } });
  assert.equal(off.active, false);
  assert.deepEqual(off.metadata, { campaign: 'fall', more: 'x' });
  const again = await stripe.promotionCodes.create({ coupon: 'FALL', code: 'FALL20' });
  await assert.rejects(stripe.promotionCodes.update(pc.id, { active: true }), (e) => e.statusCode === 400, 'its code is taken now');
  // list filters
  assert.deepEqual((await stripe.promotionCodes.list({ code: 'fall20' })).data.map((x) => x.id), [again.id, pc.id]);
  assert.deepEqual((await stripe.promotionCodes.list({ code: 'FALL20', active: true })).data.map((x) => x.id), [again.id]);
  assert.deepEqual((await stripe.promotionCodes.list({ active: false })).data.map((x) => x.id), [pc.id]);
  assert.equal((await stripe.promotionCodes.list({ coupon: 'FALL' })).data.length, 3);
  assert.equal((await stripe.promotionCodes.list({ coupon: 'NOPE' })).data.length, 0);
  assert.deepEqual(await eventsOf(pc.id), ['promotion_code.created', 'promotion_code.updated']);
  const evs = await eventsFull(pc.id);
  assert.deepEqual(evs[1].data.previous_attributes, { active: true, metadata: { campaign: 'fall' } });
  const cases = [
    [{}, 'promotion[coupon]'],
    [{ coupon: 'NOPE' }, 'coupon'],
    [{ promotion: { type: 'coupon', coupon: 'NOPE' } }, 'promotion[coupon]'],
    [{ coupon: 'FALL', code: 'no spaces' }, 'code'],
    [{ coupon: 'FALL', expires_at: 1000 }, 'expires_at'],
    [{ coupon: 'FALL', max_redemptions: 0 }, 'max_redemptions'],
    [{ coupon: 'FALL', restrictions: { minimum_amount: 100 } }, 'restrictions[minimum_amount_currency]'],
    [{ coupon: 'FALL', customer: 'cus_nope' }, 'customer'],
  ];
  for (const [params, param] of cases) {
    await assert.rejects(stripe.promotionCodes.create(params), (e) => e.statusCode >= 400 && e.statusCode < 500 && e.param === param, JSON.stringify(params));
  }
  await assert.rejects(other.promotionCodes.retrieve(pc.id), (e) => e.statusCode === 404);
  await assert.rejects(other.promotionCodes.create({ coupon: 'FALL' }), (e) => e.statusCode === 404);
});

test('a forever percent coupon on a subscription: every invoice discounted line by line; the money adds up', async () => {
  monthly = await stripe.prices.create({ currency: 'usd', unit_amount: 3000, recurring: { interval: 'month' }, product_data: { name: 'Team' } });
  product = monthly.product;
  addon = await stripe.prices.create({ currency: 'usd', unit_amount: 1250, recurring: { interval: 'month' }, product_data: { name: 'Addon' } });
  const coupon = await stripe.coupons.create({ percent_off: 15.5, duration: 'forever' });
  const { clock, customer } = await setup();
  const sub = await stripe.subscriptions.create({
    customer: customer.id, items: [{ price: monthly.id }, { price: addon.id, quantity: 3 }],
    discounts: [{ coupon: coupon.id }], expand: ['latest_invoice', 'discounts'],
  });
  assert.equal(sub.status, 'active');
  assert.equal(sub.discounts.length, 1);
  const d = sub.discounts[0];
  assert.match(d.id, /^di_/);
  assert.deepEqual(d.source, { coupon: coupon.id, type: 'coupon' });
  assert.equal(d.subscription, sub.id);
  assert.equal(d.customer, customer.id);
  assert.equal(d.start, T0);
  assert.equal(d.end, null);
  shape(d, 'discount');
  shape({ ...sub, latest_invoice: sub.latest_invoice.id, discounts: [d.id] }, 'subscription');
  const inv = sub.latest_invoice;
  const offA = pctOff(3000, '15.5'); // 465
  const offB = pctOff(3750, '15.5'); // 581.25 → 581
  assert.deepEqual([inv.subtotal, inv.total], [6750, 6750 - offA - offB]);
  assert.deepEqual(inv.discounts, [d.id]);
  assert.deepEqual(inv.total_discount_amounts, [{ amount: offA + offB, discount: d.id }]);
  assert.equal(inv.status, 'paid');
  shape(inv, 'invoice');
  const lines = await assertConserved(inv);
  assert.deepEqual(lines.map((l) => l.discount_amounts), [[{ amount: offA, discount: d.id }], [{ amount: offB, discount: d.id }]]);
  assert.equal((await stripe.coupons.retrieve(coupon.id)).times_redeemed, 1);
  assert.deepEqual(await eventsOf(d.id), ['customer.discount.created']);
  // renewals keep it
  await advance(clock, APR1 + HOUR + 60);
  const next = await stripe.invoices.retrieve((await stripe.subscriptions.retrieve(sub.id)).latest_invoice);
  assert.equal(next.total, 6750 - offA - offB);
  assert.equal(next.status, 'paid');
  await assertConserved(next);
  // another merchant's coupon does not exist here
  await assert.rejects(other.subscriptions.create({ customer: customer.id, items: [{ price: monthly.id }], discounts: [{ coupon: coupon.id }] }),
    (e) => e.statusCode === 404);
});

test('durations: once is used by the first paid invoice (not a trial\'s), repeating runs out, then the full price', async () => {
  const once = await stripe.coupons.create({ amount_off: 500, currency: 'usd', duration: 'once' });
  const rep = await stripe.coupons.create({ percent_off: 10, duration: 'repeating', duration_in_months: 2 });
  const { clock, customer } = await setup();
  const sub = await stripe.subscriptions.create({
    customer: customer.id, items: [{ price: monthly.id }], trial_period_days: 14,
    discounts: [{ coupon: once.id }, { coupon: rep.id }],
  });
  assert.equal(sub.status, 'trialing');
  assert.equal(sub.discounts.length, 2);
  const [dOnce, dRep] = sub.discounts;
  const trialInv = await stripe.invoices.retrieve(sub.latest_invoice);
  assert.equal(trialInv.total, 0);
  await assertConserved(trialInv);
  const rd = await (async () => (await stripe.subscriptions.retrieve(sub.id, { expand: ['discounts'] })).discounts)();
  assert.equal(rd[1].end, Date.UTC(2025, 4, 1, 0, 0, 0) / 1000, 'repeating: start + 2 months');
  // the trial ends (Mar 15): 30.00 − 5.00 (once) − 10 % of the rest (2.50)
  await advance(clock, T0 + 14 * DAY + HOUR + 60);
  let s = await stripe.subscriptions.retrieve(sub.id);
  let inv = await stripe.invoices.retrieve(s.latest_invoice);
  assert.equal(inv.subtotal, 3000);
  assert.deepEqual(inv.total_discount_amounts, [{ amount: 500, discount: dOnce }, { amount: 250, discount: dRep }]);
  assert.equal(inv.total, 2250);
  assert.equal(inv.status, 'paid');
  await assertConserved(inv);
  assert.deepEqual(s.discounts, [dRep], 'once is used up');
  assert.deepEqual(await eventsOf(dOnce), ['customer.discount.created', 'customer.discount.deleted']);
  // Apr 15: the repeating one still (before May 1)
  await advance(clock, T0 + 45 * DAY + HOUR + 60);
  s = await stripe.subscriptions.retrieve(sub.id);
  inv = await stripe.invoices.retrieve(s.latest_invoice);
  assert.equal(inv.total, 2700);
  await assertConserved(inv);
  // May 15: it ran out on May 1
  await advance(clock, T0 + 75 * DAY + HOUR + 60);
  s = await stripe.subscriptions.retrieve(sub.id);
  inv = await stripe.invoices.retrieve(s.latest_invoice);
  assert.equal(inv.total, 3000);
  assert.deepEqual(inv.discounts, []);
  assert.deepEqual(s.discounts, []);
  assert.deepEqual(await eventsOf(dRep), ['customer.discount.created', 'customer.discount.deleted']);
});

test('an amount off spread over lines in proportion; applies_to limits a coupon to products; never below zero', async () => {
  const { customer } = await setup();
  // 10.00 off 30.00 + 3 × 12.50 = 67.50: 30/67.5 and 37.5/67.5 of it, the odd unit to the larger remainder
  const ten = await stripe.coupons.create({ amount_off: 1000, currency: 'usd', duration: 'forever' });
  const sub = await stripe.subscriptions.create({
    customer: customer.id, items: [{ price: monthly.id }, { price: addon.id, quantity: 3 }], coupon: ten.id, expand: ['latest_invoice'],
  });
  let lines = await assertConserved(sub.latest_invoice);
  const shares = lines.map((l) => l.discount_amounts[0].amount);
  assert.deepEqual(shares, [444, 556]); // 444.44… and 555.55…: the odd unit to the larger remainder
  assert.equal(sub.latest_invoice.total, 6750 - 1000);
  // 50 % off the addon's product only
  const onlyAddon = await stripe.coupons.create({ percent_off: 50, duration: 'forever', applies_to: { products: [addon.product] } });
  const sub2 = await stripe.subscriptions.create({
    customer: customer.id, items: [{ price: monthly.id }, { price: addon.id, quantity: 3 }], discounts: [{ coupon: onlyAddon.id }], expand: ['latest_invoice'],
  });
  lines = await assertConserved(sub2.latest_invoice);
  assert.deepEqual(lines.map((l) => l.discount_amounts.map((x) => x.amount)), [[], [1875]]);
  assert.equal(sub2.latest_invoice.total, 6750 - 1875);
  // more off than the invoice: it goes to zero, and nothing is charged
  const huge = await stripe.coupons.create({ amount_off: 100000, currency: 'usd', duration: 'once' });
  const sub3 = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: monthly.id }], discounts: [{ coupon: huge.id }], expand: ['latest_invoice'] });
  assert.equal(sub3.status, 'active');
  assert.equal(sub3.latest_invoice.total, 0);
  assert.equal(sub3.latest_invoice.amount_due, 0);
  assert.equal(sub3.latest_invoice.status, 'paid');
  assert.deepEqual(sub3.latest_invoice.total_discount_amounts.map((x) => x.amount), [3000]);
  await assertConserved(sub3.latest_invoice);
  // an amount off in another currency does not fit
  const eur = await stripe.coupons.create({ amount_off: 100, currency: 'eur' });
  await assert.rejects(stripe.subscriptions.create({ customer: customer.id, items: [{ price: monthly.id }], discounts: [{ coupon: eur.id }] }),
    (e) => e.statusCode === 400 && e.param === 'discounts[0][coupon]');
});

test('max_redemptions and redeem_by refuse; times_redeemed counts; promotion codes\' restrictions', async () => {
  const pm = 'pm_card_visa';
  const cus = async () => stripe.customers.create({ payment_method: pm, invoice_settings: { default_payment_method: pm } });
  const two = await stripe.coupons.create({ percent_off: 5, max_redemptions: 2 });
  const a = await cus();
  for (let i = 0; i < 2; i++) await stripe.subscriptions.create({ customer: a.id, items: [{ price: monthly.id }], coupon: two.id });
  const spent = await stripe.coupons.retrieve(two.id);
  assert.equal(spent.times_redeemed, 2);
  assert.equal(spent.valid, false);
  const count = (await stripe.subscriptions.list({ customer: a.id })).data.length;
  await assert.rejects(stripe.subscriptions.create({ customer: a.id, items: [{ price: monthly.id }], coupon: two.id }),
    (e) => e.statusCode === 400 && e.code === 'coupon_expired' && e.param === 'coupon');
  assert.equal((await stripe.subscriptions.list({ customer: a.id })).data.length, count, 'nothing made');
  // redeem_by: valid until then (real time)
  const soon = await stripe.coupons.create({ percent_off: 5, redeem_by: Math.floor(Date.now() / 1000) + 2 });
  await new Promise((r) => setTimeout(r, 2500));
  assert.equal((await stripe.coupons.retrieve(soon.id)).valid, false);
  await assert.rejects(stripe.subscriptions.create({ customer: a.id, items: [{ price: monthly.id }], discounts: [{ coupon: soon.id }] }),
    (e) => e.statusCode === 400 && e.code === 'coupon_expired');
  // a deleted coupon cannot be redeemed (its existing discounts go on)
  const gone = await stripe.coupons.create({ percent_off: 5, duration: 'forever' });
  const kept = await stripe.subscriptions.create({ customer: a.id, items: [{ price: monthly.id }], coupon: gone.id });
  await stripe.coupons.del(gone.id);
  await assert.rejects(stripe.subscriptions.create({ customer: a.id, items: [{ price: monthly.id }], coupon: gone.id }), (e) => e.statusCode === 404);
  assert.equal((await stripe.subscriptions.retrieve(kept.id, { expand: ['discounts'] })).discounts[0].source.coupon, gone.id);
  // promotion codes: counted with their coupon; their own limits and restrictions
  const base = await stripe.coupons.create({ percent_off: 20, duration: 'forever' });
  const code = await stripe.promotionCodes.create({ coupon: base.id, code: 'WELCOME', max_redemptions: 1,
    restrictions: { first_time_transaction: true, minimum_amount: 2500, minimum_amount_currency: 'usd' } });
  const small = await stripe.prices.create({ currency: 'usd', unit_amount: 2000, recurring: { interval: 'month' }, product });
  const fresh = await cus();
  await assert.rejects(stripe.subscriptions.create({ customer: fresh.id, items: [{ price: small.id }], promotion_code: code.id }),
    (e) => e.statusCode === 400 && e.param === 'promotion_code' && /at least 2500 usd/.test(e.message), 'under the minimum');
  await assert.rejects(stripe.subscriptions.create({ customer: a.id, items: [{ price: monthly.id }], promotion_code: code.id }),
    (e) => e.statusCode === 400 && /never paid/.test(e.message), 'not a first purchase');
  const ok = await stripe.subscriptions.create({ customer: fresh.id, items: [{ price: monthly.id }], discounts: [{ promotion_code: code.id }], expand: ['discounts', 'latest_invoice'] });
  assert.equal(ok.discounts[0].promotion_code, code.id);
  assert.equal(ok.latest_invoice.total, 2400);
  await assertConserved(ok.latest_invoice);
  assert.equal((await stripe.promotionCodes.retrieve(code.id)).times_redeemed, 1);
  assert.equal((await stripe.coupons.retrieve(base.id)).times_redeemed, 1);
  const fresh2 = await cus();
  await assert.rejects(stripe.subscriptions.create({ customer: fresh2.id, items: [{ price: monthly.id }], promotion_code: code.id }),
    (e) => e.statusCode === 400 && /maximum/.test(e.message));
  // inactive, reserved for another customer, expired
  const inactive = await stripe.promotionCodes.create({ coupon: base.id, active: false });
  await assert.rejects(stripe.subscriptions.create({ customer: fresh2.id, items: [{ price: monthly.id }], promotion_code: inactive.id }),
    (e) => e.statusCode === 400 && /inactive/.test(e.message));
  const mine = await stripe.promotionCodes.create({ coupon: base.id, customer: fresh.id });
  await assert.rejects(stripe.subscriptions.create({ customer: fresh2.id, items: [{ price: monthly.id }], promotion_code: mine.id }),
    (e) => e.statusCode === 400 && /this customer/.test(e.message));
  const brief = await stripe.promotionCodes.create({ coupon: base.id, expires_at: Math.floor(Date.now() / 1000) + 2 });
  await new Promise((r) => setTimeout(r, 2500));
  await assert.rejects(stripe.subscriptions.create({ customer: fresh2.id, items: [{ price: monthly.id }], promotion_code: brief.id }),
    (e) => e.statusCode === 400 && /expired/.test(e.message));
  await assert.rejects(stripe.subscriptions.create({ customer: fresh2.id, items: [{ price: monthly.id }], promotion_code: 'promo_nope' }),
    (e) => e.statusCode === 404 && e.param === 'promotion_code');
  await assert.rejects(stripe.subscriptions.create({ customer: fresh2.id, items: [{ price: monthly.id }], discounts: [{ coupon: base.id }, { coupon: base.id }] }),
    (e) => e.statusCode === 400 && e.param === 'discounts[1][coupon]');
  await assert.rejects(stripe.subscriptions.create({ customer: fresh2.id, items: [{ price: monthly.id }], discounts: [{ coupon: base.id }], coupon: base.id }),
    (e) => e.statusCode === 400);
  assert.equal((await stripe.coupons.retrieve(base.id)).times_redeemed, 1, 'refused ones are not counted');
});

test('a subscription\'s discounts change: update replaces them, \'\' clears, DELETE …/discount removes', async () => {
  const { clock, customer } = await setup();
  const c10 = await stripe.coupons.create({ percent_off: 10, duration: 'forever' });
  const c20 = await stripe.coupons.create({ percent_off: 20, duration: 'forever' });
  const sub = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: monthly.id }] });
  assert.deepEqual(sub.discounts, []);
  const u1 = await stripe.subscriptions.update(sub.id, { discounts: [{ coupon: c10.id }] });
  assert.equal(u1.discounts.length, 1);
  const d10 = u1.discounts[0];
  let evs = await eventsFull(sub.id);
  assert.deepEqual(evs[evs.length - 1].data.previous_attributes, { discounts: [] });
  // keep the first by its id, add another
  const u2 = await stripe.subscriptions.update(sub.id, { discounts: [{ discount: d10 }, { coupon: c20.id }] });
  assert.equal(u2.discounts[0], d10);
  assert.equal(u2.discounts.length, 2);
  assert.equal((await stripe.coupons.retrieve(c10.id)).times_redeemed, 1, 'kept, not redeemed again');
  // the renewal takes both, one after the other: 30.00 − 3.00 = 27.00, − 5.40 = 21.60
  await advance(clock, APR1 + HOUR + 60);
  const inv = await stripe.invoices.retrieve((await stripe.subscriptions.retrieve(sub.id)).latest_invoice);
  assert.deepEqual(inv.total_discount_amounts.map((x) => x.amount), [300, 540]);
  assert.equal(inv.total, 2160);
  await assertConserved(inv);
  // DELETE …/discount: they end; the answer is the deleted discount
  const removed = await stripe.subscriptions.deleteDiscount(sub.id);
  assert.equal(removed.object, 'discount');
  assert.equal(removed.deleted, true);
  assert.equal(removed.id, d10);
  shape(removed, 'deleted_discount');
  const s = await stripe.subscriptions.retrieve(sub.id);
  assert.deepEqual(s.discounts, []);
  assert.deepEqual(await eventsOf(d10), ['customer.discount.created', 'customer.discount.deleted']);
  await assert.rejects(stripe.subscriptions.deleteDiscount(sub.id), (e) => e.statusCode === 404);
  // coupon='' clears (nothing there), a new coupon by the legacy parameter, then discounts=''
  const u3 = await stripe.subscriptions.update(sub.id, { coupon: c20.id });
  assert.equal(u3.discounts.length, 1);
  const u4 = await stripe.subscriptions.update(sub.id, { discounts: '' });
  assert.deepEqual(u4.discounts, []);
  evs = await eventsFull(sub.id);
  assert.deepEqual(evs[evs.length - 1].data.previous_attributes, { discounts: u3.discounts });
  await advance(clock, MAY1 + HOUR + 60);
  const full = await stripe.invoices.retrieve((await stripe.subscriptions.retrieve(sub.id)).latest_invoice);
  assert.equal(full.total, 3000);
  // another subscription's discount cannot be kept
  const otherSub = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: monthly.id }], coupon: c10.id });
  await assert.rejects(stripe.subscriptions.update(sub.id, { discounts: [{ discount: otherSub.discounts[0] }] }),
    (e) => e.statusCode === 400 && e.param === 'discounts[0][discount]');
});

test('a subscription item\'s own discounts: items[n][discounts] and subscription_items; only its lines, before the subscription\'s; kept by id, \'\' clears, deletion ends them', async () => {
  const { clock, customer } = await setup();
  const extra = await stripe.prices.create({ currency: 'usd', unit_amount: 1000, recurring: { interval: 'month' }, product });
  const c25 = await stripe.coupons.create({ percent_off: 25, duration: 'forever' });
  const c10 = await stripe.coupons.create({ percent_off: 10, duration: 'forever' });
  const once = await stripe.coupons.create({ amount_off: 500, currency: 'usd', duration: 'once' });
  const sub = await stripe.subscriptions.create({
    customer: customer.id, discounts: [{ coupon: c10.id }], expand: ['latest_invoice'],
    items: [{ price: monthly.id, discounts: [{ coupon: c25.id }] }, { price: addon.id, quantity: 2 }],
  });
  const [i0, i1] = sub.items.data;
  assert.equal(i0.discounts.length, 1);
  assert.deepEqual(i1.discounts, []);
  const d25 = i0.discounts[0];
  const d10 = sub.discounts[0];
  const [created] = await eventsFull(d25);
  assert.equal(created.type, 'customer.discount.created');
  assert.equal(created.data.object.subscription_item, i0.id);
  assert.equal(created.data.object.subscription, sub.id);
  shape(created.data.object, 'discount');
  shape(i0, 'subscription_item');
  // expand[]: the ids as discount objects, on a subscription's items, one item and a list of them
  const ex = await stripe.subscriptions.retrieve(sub.id, { expand: ['items.data.discounts'] });
  assert.equal(ex.items.data[0].discounts[0].id, d25);
  assert.equal(ex.items.data[0].discounts[0].source.coupon, c25.id);
  assert.deepEqual(ex.discounts, [d10], 'only what was named is expanded');
  shape(ex.items.data[0], 'subscription_item');
  const one = await stripe.subscriptionItems.retrieve(i0.id, { expand: ['discounts'] });
  assert.equal(one.discounts[0].subscription_item, i0.id);
  const listed = await stripe.subscriptionItems.list({ subscription: sub.id, expand: ['data.discounts'] });
  assert.equal(listed.data.find((x) => x.id === i0.id).discounts[0].object, 'discount');
  // 30.00: 25 % off (7.50), then the subscription's 10 % of 22.50 (2.25); 25.00: 10 % (2.50)
  const inv = sub.latest_invoice;
  assert.equal(inv.total, 5500 - 750 - 225 - 250);
  assert.deepEqual(inv.discounts, [d10]);
  assert.deepEqual(inv.total_discount_amounts, [{ amount: 475, discount: d10 }, { amount: 750, discount: d25 }]);
  shape(inv, 'invoice');
  const lines = await assertConserved(inv);
  assert.deepEqual(lines.map((l) => l.discounts), [[d25], []]);
  assert.deepEqual(lines.map((l) => l.discount_amounts), [
    [{ amount: 750, discount: d25 }, { amount: 225, discount: d10 }], [{ amount: 250, discount: d10 }]]);
  // POST /v1/subscription_items: a new item with its own (once: the next invoice's only)
  const i2 = await stripe.subscriptionItems.create({ subscription: sub.id, price: extra.id, proration_behavior: 'none', discounts: [{ coupon: once.id }] });
  assert.equal(i2.discounts.length, 1);
  // kept by its id (not redeemed again); another item's cannot be taken
  const k = await stripe.subscriptionItems.update(i0.id, { discounts: [{ discount: d25 }] });
  assert.deepEqual(k.discounts, [d25]);
  assert.equal((await stripe.coupons.retrieve(c25.id)).times_redeemed, 1);
  await assert.rejects(stripe.subscriptionItems.update(i1.id, { discounts: [{ discount: d25 }] }),
    (e) => e.statusCode === 400 && e.param === 'discounts[0][discount]');
  await assert.rejects(stripe.subscriptions.update(sub.id, { items: [{ id: i1.id, discounts: [{ coupon: 'nope' }] }] }),
    (e) => e.statusCode === 404 && e.param === 'items[0][discounts][0][coupon]');
  assert.deepEqual((await stripe.subscriptionItems.retrieve(i1.id)).discounts, [], 'a refused change changes nothing');
  // not among what a pending update holds (Stripe's list)
  await assert.rejects(stripe.subscriptionItems.update(i1.id, { discounts: [{ coupon: c25.id }], payment_behavior: 'pending_if_incomplete' }),
    (e) => e.statusCode === 400 && e.param === 'discounts');
  // the renewal: 10.00 − 5.00 (once), then 10 % of the rest
  await advance(clock, APR1 + HOUR + 60);
  const apr = await stripe.invoices.retrieve((await stripe.subscriptions.retrieve(sub.id)).latest_invoice);
  assert.equal(apr.total, 6500 - 750 - 225 - 250 - 500 - 50);
  await assertConserved(apr);
  assert.deepEqual((await stripe.subscriptionItems.retrieve(i2.id)).discounts, [], 'once: used up');
  // '' clears one item's; a deleted item's end with it
  const u = await stripe.subscriptions.update(sub.id, { proration_behavior: 'none', items: [{ id: i0.id, discounts: '' }, { id: i1.id, discounts: [{ coupon: c25.id }] }] });
  assert.deepEqual(u.items.data.map((x) => x.discounts.length), [0, 1, 0]);
  const d1 = u.items.data[1].discounts[0];
  await stripe.subscriptionItems.del(i1.id, { proration_behavior: 'none' });
  assert.deepEqual(await eventsOf(d25), ['customer.discount.created', 'customer.discount.deleted']);
  assert.deepEqual(await eventsOf(d1), ['customer.discount.created', 'customer.discount.deleted']);
  await advance(clock, MAY1 + HOUR + 60);
  const may = await stripe.invoices.retrieve((await stripe.subscriptions.retrieve(sub.id)).latest_invoice);
  assert.equal(may.total, 4000 - 400);
  await assertConserved(may);
});

test('a change\'s prorations take the item\'s own discounts off first, as its period\'s invoice does', async () => {
  const { clock, customer } = await setup();
  const c = await stripe.coupons.create({ percent_off: 50, duration: 'forever' });
  const sub = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: monthly.id, discounts: [{ coupon: c.id }] }] });
  const item = sub.items.data[0];
  const did = item.discounts[0];
  await advance(clock, T0 + 10 * DAY);
  // 21 of 31 days left: the credit of 30.00 less its 50 %, the charge of 60.00 less its 50 %
  const upd = await stripe.subscriptions.update(sub.id, { items: [{ id: item.id, quantity: 2 }], proration_behavior: 'always_invoice', expand: ['latest_invoice'] });
  const lines = await assertConserved(upd.latest_invoice);
  const [credit, charge] = [lines.find((l) => l.amount < 0), lines.find((l) => l.amount > 0)];
  assert.equal(credit.amount, -2032 + 1016);
  assert.equal(charge.amount, 4065 - 2032);
  assert.deepEqual(credit.discounts, [did]);
  assert.deepEqual(charge.discounts, [did]);
  assert.equal(upd.latest_invoice.total, 2033 - 1016);
});

test('discounts on an always_invoice change and on resume apply to the period\'s lines; a proration is net of its own share', async () => {
  const { clock, customer } = await setup();
  const yearly = await stripe.prices.create({ currency: 'usd', unit_amount: 30000, recurring: { interval: 'year' }, product });
  const c = await stripe.coupons.create({ percent_off: 50, duration: 'forever' });
  const sub = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: monthly.id }], coupon: c.id });
  await advance(clock, T0 + 10 * DAY);
  // a new interval: the new year invoiced at once, half off; the credit for March is what was
  // billed for its unused 21 of 31 days, half off too (Stripe: a proration's amount has its
  // discounts in it, its line names them at 0 and is not discounted again)
  const upd = await stripe.subscriptions.update(sub.id, { items: [{ id: sub.items.data[0].id, price: yearly.id }], expand: ['latest_invoice'] });
  const inv = upd.latest_invoice;
  const lines = await assertConserved(inv);
  const period = lines.find((l) => l.parent.type === 'subscription_item_details');
  const credit = lines.find((l) => l.parent.type === 'invoice_item_details');
  assert.deepEqual(period.discount_amounts.map((x) => x.amount), [15000]);
  const did = upd.discounts[0];
  assert.deepEqual(credit.discount_amounts, [{ amount: 0, discount: did }]);
  assert.deepEqual(credit.discounts, [did]);
  assert.equal(credit.amount, -2032 + 1016); // −30.00 × 21/31 and its 50 %
  assert.equal(credit.discountable, false);
  assert.equal(inv.total, 30000 - 15000 + credit.amount);
  assert.equal(inv.status, 'paid');
});

test('one-off invoices: invoice-level and item-level discounts; a draft follows its items; finalized and paid, it adds up', async () => {
  const { customer } = await setup();
  const widget = await stripe.products.create({ name: 'Widget' });
  const p500 = await stripe.prices.create({ currency: 'usd', unit_amount: 500, product: widget.id });
  const tenPct = await stripe.coupons.create({ percent_off: 10 });
  const fiveOff = await stripe.coupons.create({ amount_off: 500, currency: 'usd' });
  const widgetOnly = await stripe.coupons.create({ percent_off: 50, applies_to: { products: [widget.id] } });
  const a = await stripe.invoiceItems.create({ customer: customer.id, amount: 2000, currency: 'usd', description: 'Work' });
  const b = await stripe.invoiceItems.create({ customer: customer.id, price: p500.id, quantity: 3, discounts: [{ coupon: widgetOnly.id }] });
  assert.equal(b.discounts.length, 1);
  shape(b, 'invoiceitem');
  const c = await stripe.invoiceItems.create({ customer: customer.id, amount: -300, currency: 'usd', description: 'Credit' });
  const inv = await stripe.invoices.create({ customer: customer.id, pending_invoice_items_behavior: 'include', discounts: [{ coupon: tenPct.id }, { coupon: fiveOff.id }], expand: ['discounts'] });
  assert.equal(inv.status, 'draft');
  assert.equal(inv.discounts.length, 2);
  for (const d of inv.discounts) {
    assert.equal(d.invoice, inv.id);
    assert.equal(d.subscription, null);
    shape(d, 'discount');
  }
  // b: 1500 − 50 % = 750 (its own, first); then 10 % of 2000 and 750: 200, 75; then 5.00 spread
  // over 1800 and 675: 363.63… and 136.36… → 364, 136; the credit line is not discounted
  assert.equal(inv.subtotal, 2000 + 1500 - 300);
  const [dPct, dAmt] = inv.discounts.map((d) => d.id);
  assert.deepEqual(inv.total_discount_amounts, [{ amount: 275, discount: dPct }, { amount: 500, discount: dAmt }, { amount: 750, discount: b.discounts[0] }]);
  assert.equal(inv.total, 3200 - 275 - 500 - 750);
  shape({ ...inv, discounts: inv.discounts.map((d) => d.id) }, 'invoice');
  let lines = await assertConserved(inv);
  const byItem = (id) => lines.find((l) => l.parent.invoice_item_details.invoice_item === id);
  assert.deepEqual(byItem(a.id).discount_amounts, [{ amount: 200, discount: dPct }, { amount: 364, discount: dAmt }]);
  assert.deepEqual(byItem(b.id).discount_amounts, [{ amount: 750, discount: b.discounts[0] }, { amount: 75, discount: dPct }, { amount: 136, discount: dAmt }]);
  assert.deepEqual(byItem(b.id).discounts, b.discounts);
  assert.deepEqual(byItem(c.id).discount_amounts, []);
  // the draft follows its items: one removed, its discounts computed again
  await stripe.invoiceItems.del(c.id);
  let cur = await stripe.invoices.retrieve(inv.id);
  assert.equal(cur.subtotal, 3500);
  assert.equal(cur.total, 3500 - 275 - 500 - 750);
  await assertConserved(cur);
  // its discounts replaced on update
  cur = await stripe.invoices.update(inv.id, { discounts: [{ coupon: tenPct.id }] });
  assert.equal(cur.discounts.length, 1);
  assert.equal(cur.total, 3500 - 750 - 275);
  await assertConserved(cur);
  // finalized and paid: the PaymentIntent is the discounted total
  const fin = await stripe.invoices.finalizeInvoice(inv.id);
  assert.equal(fin.total, 2475);
  await assert.rejects(stripe.invoices.update(inv.id, { discounts: '' }), (e) => e.statusCode === 400);
  const paid = await stripe.invoices.pay(inv.id);
  assert.equal(paid.status, 'paid');
  assert.equal(paid.amount_paid, 2475);
  shape(paid, 'invoice');
  lines = await assertConserved(paid);
  assert.equal((await stripe.coupons.retrieve(tenPct.id)).times_redeemed, 2);
  // refused: a discount on a credit, a coupon of another currency, an unknown one
  await assert.rejects(stripe.invoiceItems.create({ customer: customer.id, amount: -100, currency: 'usd', discounts: [{ coupon: tenPct.id }] }),
    (e) => e.statusCode === 400 && e.param === 'discounts');
  await assert.rejects(stripe.invoiceItems.create({ customer: customer.id, amount: 100, currency: 'eur', discounts: [{ coupon: fiveOff.id }] }),
    (e) => e.statusCode === 400 && e.param === 'discounts[0][coupon]');
  await assert.rejects(stripe.invoices.create({ customer: customer.id, discounts: [{ coupon: 'NOPE' }] }),
    (e) => e.statusCode === 404 && e.param === 'discounts[0][coupon]');
});

// ---- Checkout Sessions: discounts[] and the page's promotion code field (headless Chromium) ----

let browser;
let shop; // where success_url goes
let okUrl;
async function launch() {
  if (!shop) {
    shop = require('node:http').createServer((req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/html' });
      res.end('<!doctype html><title>Shop</title><h1>ok</h1>');
    });
    await new Promise((r) => shop.listen(0, '127.0.0.1', r));
    okUrl = `http://127.0.0.1:${shop.address().port}/ok?cs={CHECKOUT_SESSION_ID}`;
  }
  if (!browser) {
    browser = await launchChromium();
  }
  return browser;
}
after(async () => {
  if (browser) await browser.close();
  if (shop) shop.close();
});

async function fillCard(page, number) {
  await page.getByLabel('Name on card').fill('Ada Lovelace');
  await page.getByLabel('Card number').fill(number);
  await page.getByLabel('Month (MM)').fill('10');
  await page.getByLabel('Year (YYYY)').fill('2035');
  await page.getByLabel('CVC').fill('321');
}

test('checkout: a promotion code typed on the page (allow_promotion_codes) discounts the payment; redeemed when paid', async () => {
  const b = await launch();
  const book = await stripe.prices.create({ currency: 'eur', unit_amount: 1500, product_data: { name: 'Book' } });
  const pen = await stripe.prices.create({ currency: 'eur', unit_amount: 250, product_data: { name: 'Pen' } });
  const c = await stripe.coupons.create({ percent_off: 20, name: 'Twenty' });
  const code = await stripe.promotionCodes.create({ coupon: c.id, code: 'SPRING20' });
  const usdOff = await stripe.coupons.create({ amount_off: 100, currency: 'usd' });
  await stripe.promotionCodes.create({ coupon: usdOff.id, code: 'DOLLAR' });
  const s = await stripe.checkout.sessions.create({
    mode: 'payment', line_items: [{ price: book.id, quantity: 2 }, { price: pen.id }],
    success_url: okUrl, allow_promotion_codes: true,
  });
  assert.equal(s.allow_promotion_codes, true);
  assert.deepEqual([s.amount_subtotal, s.amount_total, s.total_details.amount_discount], [3250, 3250, 0]);
  assert.deepEqual(s.discounts, []);
  const page = await b.newPage();
  await page.goto(s.url);
  assert.equal(await page.textContent('#total'), '32.50 EUR');
  // an unknown code, and one that does not fit (an amount off in another currency): the page says why
  await page.getByLabel('Promotion code').fill('nope');
  await page.getByRole('button', { name: 'Apply' }).click();
  await page.waitForSelector('p.error');
  assert.match(await page.textContent('p.error'), /not valid/);
  await page.getByLabel('Promotion code').fill('dollar');
  await page.getByRole('button', { name: 'Apply' }).click();
  await page.waitForSelector('p.error');
  assert.match(await page.textContent('p.error'), /usd/);
  assert.equal((await stripe.checkout.sessions.retrieve(s.id)).amount_total, 3250, 'nothing changed');
  // the code, whatever its case: 20 % off each line (6.00 + 0.50)
  await page.getByLabel('Promotion code').fill('spring20');
  await Promise.all([page.waitForURL(s.url), page.getByRole('button', { name: 'Apply' }).click()]);
  assert.equal(await page.textContent('#subtotal'), '32.50 EUR');
  assert.equal(await page.textContent('#discount'), '−6.50 EUR');
  assert.equal(await page.textContent('#applied-code'), 'SPRING20');
  assert.equal(await page.textContent('#total'), '26.00 EUR');
  let cur = await stripe.checkout.sessions.retrieve(s.id);
  assert.deepEqual([cur.amount_subtotal, cur.amount_total, cur.total_details.amount_discount], [3250, 2600, 650]);
  assert.deepEqual(cur.discounts, [{ coupon: c.id, promotion_code: code.id }]);
  assertStripeShapeCheckout(cur);
  assert.equal((await stripe.promotionCodes.retrieve(code.id)).times_redeemed, 0, 'redeemed only when paid');
  // removed, then applied again
  await Promise.all([page.waitForURL(s.url), page.getByRole('button', { name: 'Remove' }).click()]);
  assert.equal(await page.textContent('#total'), '32.50 EUR');
  assert.deepEqual((await stripe.checkout.sessions.retrieve(s.id)).discounts, []);
  await page.getByLabel('Promotion code').fill('SPRING20');
  await Promise.all([page.waitForURL(s.url), page.getByRole('button', { name: 'Apply' }).click()]);
  // paid: the PaymentIntent is the discounted total; the code and its coupon are redeemed
  await fillCard(page, '4242424242424242');
  await Promise.all([page.waitForURL(/\/ok\?/), page.getByRole('button', { name: /Pay 26\.00 EUR/ }).click()]);
  await page.close();
  cur = await stripe.checkout.sessions.retrieve(s.id);
  assert.equal(cur.status, 'complete');
  assert.equal(cur.amount_total, 2600);
  const pi = await stripe.paymentIntents.retrieve(cur.payment_intent, { expand: ['latest_charge.balance_transaction'] });
  assert.equal(pi.amount, 2600);
  assert.equal(pi.latest_charge.amount_captured, 2600);
  assert.equal(pi.latest_charge.balance_transaction.currency, 'usd', 'settled in usd: converted, not compared');
  assert.equal((await stripe.promotionCodes.retrieve(code.id)).times_redeemed, 1);
  assert.equal((await stripe.coupons.retrieve(c.id)).times_redeemed, 1);
  // a session that takes no codes refuses one posted to it
  const plain = await stripe.checkout.sessions.create({ mode: 'payment', line_items: [{ price: pen.id }], success_url: 'http://127.0.0.1:9/ok' });
  const res = await env.request({ method: 'POST', path: new URL(plain.url).pathname + '/promotion_code', body: 'promotion_code=SPRING20' });
  assert.equal(res.status, 400);
  assert.equal((await stripe.checkout.sessions.retrieve(plain.id)).amount_total, 250);
});

test('checkout: discounts[0][coupon] on a subscription-mode session: the subscription and its first invoice are discounted', async () => {
  const b = await launch();
  const half = await stripe.coupons.create({ percent_off: 50, duration: 'forever', name: 'Half' });
  const s = await stripe.checkout.sessions.create({
    mode: 'subscription', line_items: [{ price: monthly.id, quantity: 2 }], discounts: [{ coupon: half.id }],
    success_url: okUrl,
  });
  assert.deepEqual([s.amount_subtotal, s.amount_total, s.total_details.amount_discount], [6000, 3000, 3000]);
  assert.deepEqual(s.discounts, [{ coupon: half.id, promotion_code: null }]);
  assertStripeShapeCheckout(s);
  const page = await b.newPage();
  await page.goto(s.url);
  assert.equal(await page.textContent('#discount-label'), 'Half');
  assert.equal(await page.textContent('#total'), '30.00 USD');
  assert.equal(await page.locator('#promotion_code').count(), 0, 'no code field: the session has its discount');
  await page.getByLabel('Email').fill('grace@example.com');
  await fillCard(page, '4242424242424242');
  await Promise.all([page.waitForURL(/\/ok\?/), page.getByRole('button', { name: 'Subscribe' }).click()]);
  await page.close();
  const done = await stripe.checkout.sessions.retrieve(s.id, { expand: ['subscription.discounts'] });
  assert.equal(done.status, 'complete');
  assert.equal(done.payment_status, 'paid');
  const sub = done.subscription;
  assert.equal(sub.status, 'active');
  assert.equal(sub.discounts[0].source.coupon, half.id);
  const inv = await stripe.invoices.retrieve(done.invoice);
  assert.equal(inv.subtotal, 6000);
  assert.equal(inv.total, 3000);
  assert.equal(inv.status, 'paid');
  await assertConserved(inv);
  assert.equal((await stripe.coupons.retrieve(half.id)).times_redeemed, 1);
  // refused: both ways of discounting at once, a discount in setup mode, an unknown coupon
  const base = { line_items: [{ price: monthly.id }], success_url: 'http://127.0.0.1:9/ok' };
  await assert.rejects(stripe.checkout.sessions.create({ ...base, mode: 'subscription', discounts: [{ coupon: half.id }], allow_promotion_codes: true }),
    (e) => e.statusCode === 400 && e.param === 'allow_promotion_codes');
  await assert.rejects(stripe.checkout.sessions.create({ mode: 'setup', currency: 'usd', success_url: 'http://127.0.0.1:9/ok', discounts: [{ coupon: half.id }] }),
    (e) => e.statusCode === 400 && e.param === 'discounts');
  await assert.rejects(stripe.checkout.sessions.create({ ...base, mode: 'subscription', discounts: [{ coupon: 'NOPE' }] }),
    (e) => e.statusCode === 404 && e.param === 'discounts[0][coupon]');
  assert.equal((await stripe.coupons.retrieve(half.id)).times_redeemed, 1);
});

// ---- currency_options: an amount off (and a promotion code's minimum) in other currencies ----

test('coupons\' currency_options: create, shown when expanded, update adds, events, refused input; promotion codes\' restrictions[currency_options]', async () => {
  const c = await stripe.coupons.create({ amount_off: 500, currency: 'usd', duration: 'forever', currency_options: { eur: { amount_off: 450 }, GBP: { amount_off: 400 } } });
  assert.equal(c.currency_options, undefined, 'includable: shown only when expanded');
  assert.deepEqual([c.amount_off, c.currency], [500, 'usd']);
  shape(c, 'coupon');
  const all = { eur: { amount_off: 450 }, gbp: { amount_off: 400 }, usd: { amount_off: 500 } };
  const got = await stripe.coupons.retrieve(c.id, { expand: ['currency_options'] });
  assert.deepEqual(got.currency_options, all, 'the coupon\'s own currency among them');
  shape(got, 'coupon');
  const listed = await stripe.coupons.list({ limit: 1, expand: ['data.currency_options'] });
  assert.deepEqual(listed.data[0].currency_options, all);
  const made = await stripe.coupons.create({ amount_off: 100, currency: 'eur', currency_options: { usd: { amount_off: 110 } }, expand: ['currency_options'] });
  assert.deepEqual(made.currency_options, { eur: { amount_off: 100 }, usd: { amount_off: 110 } });
  // update adds an option (the same amount again is taken); one made cannot change
  const up = await stripe.coupons.update(c.id, { currency_options: { jpy: { amount_off: 80 }, eur: { amount_off: 450 } }, expand: ['currency_options'] });
  assert.deepEqual(up.currency_options, { ...all, jpy: { amount_off: 80 } });
  shape(up, 'coupon');
  const ev = (await eventsFull(c.id)).pop();
  assert.equal(ev.type, 'coupon.updated');
  assert.deepEqual(ev.data.object.currency_options, { ...all, jpy: { amount_off: 80 } });
  assert.deepEqual(ev.data.previous_attributes, { currency_options: all });
  await assert.rejects(stripe.coupons.update(c.id, { currency_options: { eur: { amount_off: 300 } } }),
    (e) => e.statusCode === 400 && e.param === 'currency_options[eur][amount_off]');
  await assert.rejects(stripe.coupons.update(c.id, { currency_options: { usd: { amount_off: 300 } } }),
    (e) => e.statusCode === 400 && e.param === 'currency_options[usd]');
  const pct = await stripe.coupons.create({ percent_off: 10 });
  await assert.rejects(stripe.coupons.update(pct.id, { currency_options: { eur: { amount_off: 300 } } }),
    (e) => e.statusCode === 400 && e.param === 'currency_options');
  assert.deepEqual((await stripe.coupons.retrieve(c.id, { expand: ['currency_options'] })).currency_options, { ...all, jpy: { amount_off: 80 } }, 'a refused update changed nothing');
  const cases = [
    [{ percent_off: 10, currency_options: { eur: { amount_off: 100 } } }, 'currency_options'],
    [{ amount_off: 100, currency: 'usd', currency_options: { usd: { amount_off: 100 } } }, 'currency_options[usd]'],
    [{ amount_off: 100, currency: 'usd', currency_options: { xyz: { amount_off: 100 } } }, 'currency_options[xyz]'],
    [{ amount_off: 100, currency: 'usd', currency_options: { eur: { amount_off: '' } } }, 'currency_options[eur][amount_off]'],
    [{ amount_off: 100, currency: 'usd', currency_options: { eur: { amount_off: 0 } } }, 'currency_options[eur][amount_off]'],
    [{ amount_off: 100, currency: 'usd', currency_options: { eur: { amount_off: 5, percent_off: 3 } } }, 'currency_options[eur][percent_off]'],
  ];
  const before = (await stripe.coupons.list({ limit: 100 })).data.length;
  for (const [params, param] of cases) {
    await assert.rejects(stripe.coupons.create(params), (e) => e.statusCode === 400 && e.param === param, JSON.stringify(params));
  }
  assert.equal((await stripe.coupons.list({ limit: 100 })).data.length, before, 'nothing made');
  await assert.rejects(other.coupons.retrieve(c.id, { expand: ['currency_options'] }), (e) => e.statusCode === 404);
  // a promotion code's minimum in other currencies
  const pc = await stripe.promotionCodes.create({
    coupon: c.id, code: 'MULTI5',
    restrictions: { minimum_amount: 2000, minimum_amount_currency: 'usd', currency_options: { eur: { minimum_amount: 1800 } } },
  });
  assert.equal(pc.restrictions.currency_options, undefined, 'includable');
  shape(pc, 'promotion_code');
  const pcx = await stripe.promotionCodes.retrieve(pc.id, { expand: ['restrictions.currency_options'] });
  assert.deepEqual(pcx.restrictions.currency_options, { eur: { minimum_amount: 1800 }, usd: { minimum_amount: 2000 } });
  shape(pcx, 'promotion_code');
  const pcu = await stripe.promotionCodes.update(pc.id, { restrictions: { currency_options: { gbp: { minimum_amount: 1600 } } }, expand: ['restrictions.currency_options'] });
  assert.deepEqual(pcu.restrictions.currency_options, { eur: { minimum_amount: 1800 }, gbp: { minimum_amount: 1600 }, usd: { minimum_amount: 2000 } });
  await assert.rejects(stripe.promotionCodes.update(pc.id, { restrictions: { currency_options: { eur: { minimum_amount: 1 } } } }),
    (e) => e.statusCode === 400 && e.param === 'restrictions[currency_options][eur][minimum_amount]');
  const pcases = [
    [{ coupon: c.id, restrictions: { currency_options: { eur: { minimum_amount: 100 } } } }, 'restrictions[currency_options]'],
    [{ coupon: c.id, restrictions: { minimum_amount: 100, minimum_amount_currency: 'usd', currency_options: { usd: { minimum_amount: 100 } } } }, 'restrictions[currency_options][usd]'],
    [{ coupon: c.id, restrictions: { minimum_amount: 100, minimum_amount_currency: 'usd', currency_options: { eur: { minimum_amount: '' } } } }, 'restrictions[currency_options][eur][minimum_amount]'],
  ];
  for (const [params, param] of pcases) {
    await assert.rejects(stripe.promotionCodes.create(params), (e) => e.statusCode === 400 && e.param === param, JSON.stringify(params));
  }
});

test('an amount_off coupon applies in its currency options\' currencies: invoices, previews, a customer\'s discount, a quote; refused in others', async () => {
  const c = await stripe.coupons.create({ amount_off: 500, currency: 'usd', currency_options: { eur: { amount_off: 450 } } });
  const { customer } = await setup();
  await stripe.invoiceItems.create({ customer: customer.id, amount: 3000, currency: 'eur', description: 'Arbeit' });
  await stripe.invoiceItems.create({ customer: customer.id, amount: 1000, currency: 'eur', description: 'Mehr' });
  // the preview and the invoice: 4.50 EUR off, spread 3.38 / 1.12 (in proportion)
  const pv = await stripe.invoices.createPreview({ customer: customer.id, currency: 'eur', discounts: [{ coupon: c.id }] });
  assert.deepEqual([pv.currency, pv.subtotal, pv.total], ['eur', 4000, 3550]);
  const inv = await stripe.invoices.create({ customer: customer.id, currency: 'eur', pending_invoice_items_behavior: 'include', discounts: [{ coupon: c.id }] });
  assert.deepEqual([inv.currency, inv.subtotal, inv.total], ['eur', 4000, 3550]);
  assert.deepEqual(inv.total_discount_amounts.map((d) => d.amount), [450]);
  shape(inv, 'invoice');
  await assertConserved(inv);
  const paid = await stripe.invoices.pay(inv.id);
  assert.deepEqual([paid.status, paid.amount_paid], ['paid', 3550]);
  await assertConserved(paid);
  // a currency the coupon has no amount for: refused as before, nothing made
  await stripe.invoiceItems.create({ customer: customer.id, amount: 3000, currency: 'chf', description: 'Arbeit' });
  await assert.rejects(stripe.invoices.create({ customer: customer.id, currency: 'chf', pending_invoice_items_behavior: 'include', discounts: [{ coupon: c.id }] }),
    (e) => e.statusCode === 400 && e.param === 'discounts[0][coupon]' && /usd/.test(e.message));
  // a customer's own discount takes the option's amount from its eur invoice, nothing from chf
  await stripe.customers.update(customer.id, { coupon: c.id });
  const chf = await stripe.invoices.create({ customer: customer.id, currency: 'chf', pending_invoice_items_behavior: 'include' });
  assert.deepEqual([chf.subtotal, chf.total], [3000, 3000], 'not in an amount it has');
  await stripe.invoiceItems.create({ customer: customer.id, amount: 2000, currency: 'eur', description: 'Noch mehr' });
  const eur = await stripe.invoices.create({ customer: customer.id, currency: 'eur', pending_invoice_items_behavior: 'include' });
  assert.deepEqual([eur.subtotal, eur.total], [2000, 1550]);
  await assertConserved(eur);
  // a promotion code's minimum in eur: its option's, not the usd amount
  const { customer: cus2 } = await setup();
  const pc = await stripe.promotionCodes.create({
    coupon: c.id, restrictions: { minimum_amount: 2000, minimum_amount_currency: 'usd', currency_options: { eur: { minimum_amount: 1800 } } },
  });
  await stripe.invoiceItems.create({ customer: cus2.id, amount: 1700, currency: 'eur', description: 'Klein' });
  await assert.rejects(stripe.invoices.create({ customer: cus2.id, currency: 'eur', pending_invoice_items_behavior: 'include', discounts: [{ promotion_code: pc.id }] }),
    (e) => e.statusCode === 400 && e.param === 'discounts[0][promotion_code]' && /at least 1800 eur/.test(e.message));
  await stripe.invoiceItems.create({ customer: cus2.id, amount: 100, currency: 'eur', description: 'Dazu' });
  const ok = await stripe.invoices.create({ customer: cus2.id, currency: 'eur', pending_invoice_items_behavior: 'include', discounts: [{ promotion_code: pc.id }] });
  assert.deepEqual([ok.subtotal, ok.total], [1800, 1350]);
  // a quote in eur prices the option's amount off
  const fee = await stripe.prices.create({ currency: 'usd', unit_amount: 1000, product: product, currency_options: { eur: { unit_amount: 900 } } });
  const q = await stripe.quotes.create({ customer: customer.id, currency: 'eur', discounts: [{ coupon: c.id }], line_items: [{ price: fee.id, quantity: 2 }] });
  assert.deepEqual([q.amount_subtotal, q.amount_total, q.total_details.amount_discount], [1800, 1350, 450]);
});

test('a subscription in a price\'s option currency takes its coupon\'s amount off in that currency, renewals too', async () => {
  const seat = await stripe.prices.create({
    currency: 'usd', unit_amount: 2000, recurring: { interval: 'month' }, product_data: { name: 'Seat' },
    currency_options: { eur: { unit_amount: 1800 } },
  });
  const c = await stripe.coupons.create({ amount_off: 500, currency: 'usd', duration: 'forever', currency_options: { eur: { amount_off: 450 } } });
  const usdOnly = await stripe.coupons.create({ amount_off: 500, currency: 'usd', duration: 'forever' });
  // a clock at the present: the bundled exchange rates (eur → usd) start after T0
  const now = Math.floor(Date.now() / 1000);
  const { clock, customer } = await setup('pm_card_visa', now);
  await assert.rejects(stripe.subscriptions.create({ customer: customer.id, currency: 'eur', items: [{ price: seat.id, quantity: 2 }], discounts: [{ coupon: usdOnly.id }] }),
    (e) => e.statusCode === 400 && e.param === 'discounts[0][coupon]');
  const sub = await stripe.subscriptions.create({
    customer: customer.id, currency: 'eur', items: [{ price: seat.id, quantity: 2 }], discounts: [{ coupon: c.id }],
    expand: ['latest_invoice'],
  });
  assert.equal(sub.status, 'active');
  const inv = sub.latest_invoice;
  assert.deepEqual([inv.currency, inv.subtotal, inv.total, inv.amount_paid, inv.status], ['eur', 3600, 3150, 3150, 'paid']);
  await assertConserved(inv);
  shape(inv, 'invoice');
  await advance(clock, now + 32 * DAY);
  const second = await stripe.invoices.retrieve((await stripe.subscriptions.retrieve(sub.id)).latest_invoice);
  assert.notEqual(second.id, inv.id);
  assert.deepEqual([second.currency, second.subtotal, second.total, second.status], ['eur', 3600, 3150, 'paid']);
  await assertConserved(second);
  assert.equal((await stripe.coupons.retrieve(c.id)).times_redeemed, 1);
});

test('checkout: a session in a price\'s option currency takes a promotion code typed on the page whose coupon has an amount for it', async () => {
  const b = await launch();
  const lamp = await stripe.prices.create({ currency: 'usd', unit_amount: 4000, product_data: { name: 'Lamp' }, currency_options: { eur: { unit_amount: 3600 } } });
  const c = await stripe.coupons.create({ amount_off: 1000, currency: 'usd', name: 'Ten', currency_options: { eur: { amount_off: 900 } } });
  const code = await stripe.promotionCodes.create({ coupon: c.id, code: 'LAMPTEN' });
  const s = await stripe.checkout.sessions.create({
    mode: 'payment', currency: 'eur', line_items: [{ price: lamp.id }], success_url: okUrl, allow_promotion_codes: true,
  });
  assert.deepEqual([s.currency, s.amount_subtotal, s.amount_total], ['eur', 3600, 3600]);
  const page = await b.newPage();
  await page.goto(s.url);
  assert.equal(await page.textContent('#total'), '36.00 EUR');
  await page.getByLabel('Promotion code').fill('lampten');
  await Promise.all([page.waitForURL(s.url), page.getByRole('button', { name: 'Apply' }).click()]);
  assert.equal(await page.textContent('#discount'), '−9.00 EUR');
  assert.equal(await page.textContent('#total'), '27.00 EUR');
  let cur = await stripe.checkout.sessions.retrieve(s.id);
  assert.deepEqual([cur.amount_subtotal, cur.amount_total, cur.total_details.amount_discount], [3600, 2700, 900]);
  assert.deepEqual(cur.discounts, [{ coupon: c.id, promotion_code: code.id }]);
  assertStripeShapeCheckout(cur);
  const bd = (await stripe.checkout.sessions.retrieve(s.id, { expand: ['total_details.breakdown'] })).total_details.breakdown;
  assert.equal(bd.discounts[0].amount, 900);
  await fillCard(page, '4242424242424242');
  await Promise.all([page.waitForURL(/\/ok\?/), page.getByRole('button', { name: /Pay 27\.00 EUR/ }).click()]);
  await page.close();
  cur = await stripe.checkout.sessions.retrieve(s.id);
  assert.deepEqual([cur.status, cur.payment_status, cur.amount_total], ['complete', 'paid', 2700]);
  const pi = await stripe.paymentIntents.retrieve(cur.payment_intent);
  assert.deepEqual([pi.amount, pi.currency, pi.status], [2700, 'eur', 'succeeded']);
  assert.equal((await stripe.promotionCodes.retrieve(code.id)).times_redeemed, 1);
  // discounts[0][coupon] at create, in the option currency, and a usd-only coupon refused
  const s2 = await stripe.checkout.sessions.create({ mode: 'payment', currency: 'eur', line_items: [{ price: lamp.id }], success_url: okUrl, discounts: [{ coupon: c.id }] });
  assert.deepEqual([s2.amount_subtotal, s2.amount_total], [3600, 2700]);
  const usdOnly = await stripe.coupons.create({ amount_off: 1000, currency: 'usd' });
  await assert.rejects(stripe.checkout.sessions.create({ mode: 'payment', currency: 'eur', line_items: [{ price: lamp.id }], success_url: okUrl, discounts: [{ coupon: usdOnly.id }] }),
    (e) => e.statusCode === 400 && e.param === 'discounts[0][coupon]');
});

test('tender verify passes: the money in the ledger adds up', async () => {
  assert.match(tender(['verify', '--data', env.dataDir]), /verify: ok/);
});
