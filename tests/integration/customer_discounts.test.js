'use strict';
// A customer's own discount through stripe-node: `coupon` / `promotion_code` on
// POST /v1/customers and POST /v1/customers/{id}, the customer's `discount`, DELETE
// /v1/customers/{id}/discount, the customer.discount.* events, redemptions counted and refused as
// for subscriptions; and what it does to invoices: a subscription without discounts of its own
// and a one-off invoice created without `discounts` take it (Stripe's precedence), with the
// durations once / repeating / forever. Every object is checked against Stripe's OpenAPI spec and
// every invoice's money is checked to add up.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { startTender, stopAll } = require('./helpers');
const { billingShape, clockAdvance } = require('./billing_helpers');

let env;
let stripe;
let other;
const DAY = 86400;
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

// the discount's coupon moved to source.coupon in the 2025 shapes the validator's spec predates
// (and a customer's cash_balance is includable: shown only when asked for, as helpers.js says)
const shape = (obj, schema) => billingShape(obj, schema, [
  /^\$(\.discount|\.discounts\[\d+\])?\.coupon: missing required property$/,
  /^\$\.cash_balance: absent/,
]);

async function eventsFull(id) {
  const all = await stripe.events.list({ limit: 100 }).autoPagingToArray({ limit: 10000 });
  return all.filter((e) => e.data.object.id === id).reverse();
}
async function eventsOf(id) {
  return (await eventsFull(id)).map((e) => e.type);
}

async function clockCustomer(params = {}, frozen = T0) {
  const clock = await stripe.testHelpers.testClocks.create({ frozen_time: frozen });
  const customer = await stripe.customers.create({
    test_clock: clock.id, payment_method: 'pm_card_visa',
    invoice_settings: { default_payment_method: 'pm_card_visa' }, ...params,
  });
  return { clock, customer };
}

// subtotal = lines; total = subtotal − discounts = lines less theirs; a paid invoice with an
// amount due was charged exactly that
async function assertConserved(inv) {
  const lines = (await stripe.invoices.listLineItems(inv.id, { limit: 100 })).data;
  const sub = lines.reduce((a, l) => a + l.amount, 0);
  const lineOff = lines.reduce((a, l) => a + l.discount_amounts.reduce((b, d) => b + d.amount, 0), 0);
  const totalOff = inv.total_discount_amounts.reduce((a, d) => a + d.amount, 0);
  assert.equal(inv.subtotal, sub);
  assert.equal(totalOff, lineOff);
  assert.equal(inv.total, sub - totalOff);
  if (inv.status === 'paid' && inv.amount_due > 0) {
    const full = await stripe.invoices.retrieve(inv.id, { expand: ['payments'] });
    const pi = await stripe.paymentIntents.retrieve(full.payments.data[0].payment.payment_intent);
    assert.equal(pi.status, 'succeeded');
    assert.equal(pi.amount, inv.amount_due);
  }
}

let monthly; // 20.00 usd a month

test('coupon on create: the customer shows its discount; a subscription without its own takes it on every invoice (forever)', async () => {
  monthly = await stripe.prices.create({ currency: 'usd', unit_amount: 2000, recurring: { interval: 'month' }, product_data: { name: 'Plan' } });
  const coupon = await stripe.coupons.create({ percent_off: 25, duration: 'forever' });
  const { clock, customer } = await clockCustomer({ coupon: coupon.id });
  const d = customer.discount;
  assert.ok(d, 'the customer shows its discount');
  assert.match(d.id, /^di_/);
  assert.equal(d.object, 'discount');
  assert.equal(d.customer, customer.id);
  assert.equal(d.subscription, null);
  assert.equal(d.invoice, null);
  assert.equal(d.invoice_item, null);
  assert.equal(d.promotion_code, null);
  assert.deepEqual(d.source, { coupon: coupon.id, type: 'coupon' });
  assert.equal(d.start, T0, 'at the customer\'s clock\'s time');
  assert.equal(d.end, null);
  shape(d, 'discount');
  shape(customer, 'customer');
  assert.deepEqual(await stripe.customers.retrieve(customer.id), customer);
  assert.equal((await stripe.coupons.retrieve(coupon.id)).times_redeemed, 1);
  assert.deepEqual(await eventsOf(d.id), ['customer.discount.created']);
  const created = (await eventsFull(customer.id)).find((e) => e.type === 'customer.created');
  assert.equal(created.data.object.discount.id, d.id);

  const sub = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: monthly.id }], expand: ['latest_invoice'] });
  assert.equal(sub.status, 'active');
  assert.deepEqual(sub.discounts, [], 'the subscription has none of its own');
  const inv = sub.latest_invoice;
  assert.deepEqual(inv.discounts, [d.id], 'its invoice names the customer\'s discount');
  assert.deepEqual([inv.subtotal, inv.total, inv.amount_due], [2000, 1500, 1500]);
  assert.deepEqual(inv.total_discount_amounts, [{ amount: 500, discount: d.id }]);
  assert.equal(inv.status, 'paid');
  shape(inv, 'invoice');
  await assertConserved(inv);
  await clockAdvance(stripe, clock, APR1 + 2 * 3600);
  const next = await stripe.invoices.retrieve((await stripe.subscriptions.retrieve(sub.id)).latest_invoice);
  assert.notEqual(next.id, inv.id);
  assert.deepEqual([next.total, next.status], [1500, 'paid']);
  assert.deepEqual(next.discounts, [d.id]);
  await assertConserved(next);
  assert.equal((await stripe.customers.retrieve(customer.id)).discount.id, d.id, 'forever: it stays');
  assert.equal((await stripe.coupons.retrieve(coupon.id)).times_redeemed, 1, 'redeemed once, by the customer');
});

test('precedence: a subscription\'s own discount wins over the customer\'s; discounts=\'\' on it falls back to the customer\'s', async () => {
  const custCoupon = await stripe.coupons.create({ percent_off: 50, duration: 'forever' });
  const subCoupon = await stripe.coupons.create({ amount_off: 300, currency: 'usd', duration: 'forever' });
  const { clock, customer } = await clockCustomer({ coupon: custCoupon.id });
  const sub = await stripe.subscriptions.create({
    customer: customer.id, items: [{ price: monthly.id }], discounts: [{ coupon: subCoupon.id }], expand: ['latest_invoice'],
  });
  const own = sub.discounts[0];
  assert.deepEqual(sub.latest_invoice.discounts, [own]);
  assert.equal(sub.latest_invoice.total, 1700);
  // its own removed: the customer's applies from the next invoice
  const upd = await stripe.subscriptions.update(sub.id, { discounts: '' });
  assert.deepEqual(upd.discounts, []);
  await clockAdvance(stripe, clock, APR1 + 2 * 3600);
  const next = await stripe.invoices.retrieve((await stripe.subscriptions.retrieve(sub.id)).latest_invoice);
  assert.deepEqual(next.discounts, [customer.discount.id]);
  assert.equal(next.total, 1000);
  await assertConserved(next);
});

test('durations: once is used up by the first invoice it takes something from (not a trial\'s); repeating ends', async () => {
  const once = await stripe.coupons.create({ amount_off: 700, currency: 'usd', duration: 'once' });
  const { clock, customer } = await clockCustomer();
  const c1 = await stripe.customers.update(customer.id, { coupon: once.id });
  const d = c1.discount;
  assert.equal(d.customer, customer.id);
  const upd = (await eventsFull(customer.id)).find((e) => e.type === 'customer.updated' && e.data.previous_attributes && 'discount' in e.data.previous_attributes);
  assert.ok(upd, 'customer.updated names the discount it did not have');
  assert.equal(upd.data.previous_attributes.discount, null);
  assert.equal(upd.data.object.discount.id, d.id);
  const sub = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: monthly.id }], trial_period_days: 10, expand: ['latest_invoice'] });
  assert.equal(sub.latest_invoice.total, 0);
  assert.equal((await stripe.customers.retrieve(customer.id)).discount.id, d.id, 'a trial\'s invoice of 0 leaves it');
  await clockAdvance(stripe, clock, T0 + 10 * DAY + 2 * 3600);
  let s = await stripe.subscriptions.retrieve(sub.id);
  let inv = await stripe.invoices.retrieve(s.latest_invoice);
  assert.deepEqual([inv.total, inv.status], [1300, 'paid']);
  assert.deepEqual(inv.discounts, [d.id]);
  await assertConserved(inv);
  assert.equal((await stripe.customers.retrieve(customer.id)).discount, null, 'once: used up');
  assert.deepEqual(await eventsOf(d.id), ['customer.discount.created', 'customer.discount.deleted']);
  await clockAdvance(stripe, clock, T0 + 41 * DAY + 2 * 3600);
  s = await stripe.subscriptions.retrieve(sub.id);
  inv = await stripe.invoices.retrieve(s.latest_invoice);
  assert.deepEqual([inv.total, inv.discounts], [2000, []]);

  // repeating for 2 months from Mar 1: Mar and Apr invoices, not May's
  const rep = await stripe.coupons.create({ percent_off: 10, duration: 'repeating', duration_in_months: 2 });
  const two = await clockCustomer({ coupon: rep.id });
  assert.equal(two.customer.discount.end, MAY1);
  const sub2 = await stripe.subscriptions.create({ customer: two.customer.id, items: [{ price: monthly.id }], expand: ['latest_invoice'] });
  assert.equal(sub2.latest_invoice.total, 1800);
  await clockAdvance(stripe, two.clock, APR1 + 2 * 3600);
  inv = await stripe.invoices.retrieve((await stripe.subscriptions.retrieve(sub2.id)).latest_invoice);
  assert.equal(inv.total, 1800);
  await clockAdvance(stripe, two.clock, MAY1 + 2 * 3600);
  inv = await stripe.invoices.retrieve((await stripe.subscriptions.retrieve(sub2.id)).latest_invoice);
  assert.deepEqual([inv.total, inv.discounts], [2000, []]);
  assert.equal((await stripe.customers.retrieve(two.customer.id)).discount, null, 'repeating: run out');
  assert.deepEqual(await eventsOf(two.customer.discount.id), ['customer.discount.created', 'customer.discount.deleted']);
  await clockAdvance(stripe, two.clock, JUN1 + 2 * 3600);
});

test('one-off invoices: created without discounts it names the customer\'s; discounts=\'\' or its own replace it; once used at finalization', async () => {
  const once = await stripe.coupons.create({ percent_off: 20, duration: 'once' });
  const customer = await stripe.customers.create({ coupon: once.id, email: 'oneoff@example.com' });
  const d = customer.discount;
  await stripe.invoiceItems.create({ customer: customer.id, amount: 5000, currency: 'usd' });
  const inv = await stripe.invoices.create({ customer: customer.id, pending_invoice_items_behavior: 'include' });
  assert.equal(inv.status, 'draft');
  assert.deepEqual(inv.discounts, [d.id]);
  assert.deepEqual([inv.subtotal, inv.total], [5000, 4000]);
  shape(inv, 'invoice');
  const none = await stripe.invoices.create({ customer: customer.id, discounts: '' });
  assert.deepEqual(none.discounts, [], '\'\': no inheritance');
  const ten = await stripe.coupons.create({ amount_off: 1000, currency: 'usd', duration: 'once' });
  const mine = await stripe.invoices.create({ customer: customer.id, discounts: [{ coupon: ten.id }] });
  assert.equal(mine.discounts.length, 1);
  assert.notEqual(mine.discounts[0], d.id, 'its own instead');
  const fin = await stripe.invoices.finalizeInvoice(inv.id);
  assert.deepEqual([fin.status, fin.total, fin.amount_due], ['open', 4000, 4000]);
  await assertConserved(fin);
  assert.equal((await stripe.customers.retrieve(customer.id)).discount, null, 'once: used by the finalized invoice');
  assert.deepEqual(await eventsOf(d.id), ['customer.discount.created', 'customer.discount.deleted']);
  const paid = await stripe.invoices.pay(fin.id, { payment_method: 'pm_card_visa' });
  assert.equal(paid.status, 'paid');
  await assertConserved(paid);
  const later = await stripe.invoices.create({ customer: customer.id });
  assert.deepEqual(later.discounts, [], 'nothing left to inherit');
});

test('replace, remove (coupon=\'\', DELETE …/discount), events, and redemption limits as for subscriptions', async () => {
  const a = await stripe.coupons.create({ percent_off: 5, duration: 'forever' });
  const b = await stripe.coupons.create({ percent_off: 7, duration: 'forever' });
  const c = await stripe.customers.create({ coupon: a.id });
  const first = c.discount;
  const c2 = await stripe.customers.update(c.id, { coupon: b.id });
  const second = c2.discount;
  assert.notEqual(second.id, first.id);
  assert.equal(second.source.coupon, b.id);
  assert.deepEqual(await eventsOf(second.id), ['customer.discount.updated'], 'another coupon: updated');
  const del = await stripe.customers.deleteDiscount(c.id);
  assert.equal(del.id, second.id);
  assert.equal(del.deleted, true);
  assert.equal(del.object, 'discount');
  assert.equal((await stripe.customers.retrieve(c.id)).discount, null);
  assert.deepEqual(await eventsOf(second.id), ['customer.discount.updated', 'customer.discount.deleted']);
  await assert.rejects(stripe.customers.deleteDiscount(c.id), (e) => e.statusCode === 404);
  await assert.rejects(stripe.customers.deleteDiscount('cus_nope'), (e) => e.statusCode === 404);
  const c3 = await stripe.customers.update(c.id, { coupon: a.id });
  assert.equal(c3.discount.source.coupon, a.id);
  const c4 = await stripe.customers.update(c.id, { coupon: '' });
  assert.equal(c4.discount, null, 'coupon=\'\' removes it');
  assert.deepEqual(await eventsOf(c3.discount.id), ['customer.discount.created', 'customer.discount.deleted']);

  // max_redemptions: counted per customer discount
  const single = await stripe.coupons.create({ percent_off: 10, duration: 'forever', max_redemptions: 1 });
  await stripe.customers.create({ coupon: single.id });
  await assert.rejects(stripe.customers.create({ coupon: single.id }), (e) => e.statusCode === 400 && e.param === 'coupon');
  assert.equal((await stripe.coupons.retrieve(single.id)).times_redeemed, 1);
  // redeem_by passed
  const late = await stripe.coupons.create({ percent_off: 10, redeem_by: Math.floor(Date.now() / 1000) + 2 });
  await new Promise((r) => setTimeout(r, 3000));
  await assert.rejects(stripe.customers.create({ coupon: late.id }), (e) => e.statusCode === 400 && e.param === 'coupon');
  await assert.rejects(stripe.customers.create({ coupon: 'NO_SUCH' }), (e) => e.statusCode === 404 && e.param === 'coupon');
  await assert.rejects(other.customers.create({ coupon: a.id }), (e) => e.statusCode === 404, 'another merchant\'s coupon');

  // promotion codes: the discount names it; restrictions hold
  const pcCoupon = await stripe.coupons.create({ amount_off: 200, currency: 'usd', duration: 'forever' });
  const pc = await stripe.promotionCodes.create({ coupon: pcCoupon.id, code: 'WELCOME2' + Date.now() % 100000, max_redemptions: 1 });
  const p1 = await stripe.customers.create({ promotion_code: pc.id });
  assert.equal(p1.discount.promotion_code, pc.id);
  assert.equal(p1.discount.source.coupon, pcCoupon.id);
  shape(p1, 'customer');
  assert.equal((await stripe.promotionCodes.retrieve(pc.id)).times_redeemed, 1);
  await assert.rejects(stripe.customers.create({ promotion_code: pc.id }), (e) => e.statusCode === 400 && e.param === 'promotion_code');
  const reserved = await stripe.promotionCodes.create({ coupon: pcCoupon.id, customer: p1.id });
  await assert.rejects(stripe.customers.update(c.id, { promotion_code: reserved.id }), (e) => e.statusCode === 400 && e.param === 'promotion_code');
  const ok = await stripe.customers.update(p1.id, { promotion_code: reserved.id });
  assert.equal(ok.discount.promotion_code, reserved.id);
  const minimum = await stripe.promotionCodes.create({ coupon: pcCoupon.id, restrictions: { minimum_amount: 1000, minimum_amount_currency: 'usd' } });
  await assert.rejects(stripe.customers.create({ promotion_code: minimum.id }), (e) => e.statusCode === 400 && e.param === 'promotion_code');
  await assert.rejects(stripe.customers.create({ coupon: a.id, promotion_code: pc.id }), (e) => e.statusCode === 400);

  // an amount off in another currency takes nothing from an invoice in this one
  const eur = await stripe.coupons.create({ amount_off: 300, currency: 'eur', duration: 'forever' });
  const ce = await stripe.customers.create({ coupon: eur.id });
  await stripe.invoiceItems.create({ customer: ce.id, amount: 2500, currency: 'usd' });
  const inv = await stripe.invoices.create({ customer: ce.id, currency: 'usd', pending_invoice_items_behavior: 'include' });
  assert.deepEqual(inv.discounts, [ce.discount.id]);
  assert.deepEqual([inv.subtotal, inv.total], [2500, 2500]);
});
