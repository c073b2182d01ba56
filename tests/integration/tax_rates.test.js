'use strict';
// Tax rates through stripe-node: the resource (create, retrieve, update with percentage and
// inclusive fixed, archiving, list filters, events), then the rates applied: a one-off invoice
// with an exclusive and an inclusive rate (the items' own and the invoice's default_tax_rates)
// and an invoice-level discount, finalized and paid (its totals, its lines' taxes, the
// PaymentIntent's amount), and a subscription with default_tax_rates and an item's own rate that
// renews taxed on a test clock. Tax is taken on what discounts leave of each line, rounded per
// line and rate to the minor unit, halves away from zero; exclusive taxes add to the total,
// inclusive ones are inside it.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { startTender, stopAll, assertStripeShape } = require('./helpers');
const { billingShape, clockAdvance } = require('./billing_helpers');

let env;
let stripe;
let other;
const HOUR = 3600;
const T0 = Date.UTC(2025, 2, 1, 0, 0, 0) / 1000; // Mar 1
const APR1 = Date.UTC(2025, 3, 1, 0, 0, 0) / 1000;

before(async () => {
  env = await startTender({ merchants: 2 });
  stripe = env.stripe();
  other = env.stripe(env.merchants[1].secret_key);
});
after(stopAll);

// A line checked on its own: the same out-of-date parts of the spec as an invoice's lines
// (billing_helpers.js), without the invoice's path in front.
const lineShape = (l) => billingShape(l, 'line_item', [
  /^\$\.(proration|type): missing required property$/,
  /^\$\.(amount_excluding_tax|price|proration_details|unit_amount_excluding_tax): absent /,
]);

async function eventsOf(id) {
  const all = await stripe.events.list({ limit: 100 }).autoPagingToArray({ limit: 1000 });
  return all.filter((e) => e.data.object.id === id).reverse();
}

let excl; // 8.25 % exclusive (sales tax)
let incl; // 20 % inclusive (VAT)

test('tax rates: create, retrieve, update, archive, list, events', async () => {
  excl = await stripe.taxRates.create({
    display_name: 'Sales tax', percentage: 8.25, inclusive: false, country: 'US', state: 'CA',
    jurisdiction: 'US - CA', description: 'California', tax_type: 'sales_tax', metadata: { k: 'v' },
  });
  assert.match(excl.id, /^txr_/);
  assert.equal(excl.object, 'tax_rate');
  assert.equal(excl.percentage, 8.25);
  assert.equal(excl.inclusive, false);
  assert.equal(excl.active, true);
  assert.equal(excl.state, 'CA');
  assert.equal(excl.tax_type, 'sales_tax');
  assert.deepEqual(excl.metadata, { k: 'v' });
  assertStripeShape(excl, 'tax_rate');
  incl = await stripe.taxRates.create({ display_name: 'VAT', percentage: '20', inclusive: true, country: 'DE' });
  assert.equal(incl.percentage, 20);
  assert.equal(incl.inclusive, true);
  assert.equal(incl.description, null);
  assertStripeShape(incl, 'tax_rate');
  // four decimals exactly, no float in between
  const fine = await stripe.taxRates.create({ display_name: 'Fine', percentage: '7.0001', inclusive: false });
  assert.equal(fine.percentage, 7.0001);
  assert.deepEqual(await stripe.taxRates.retrieve(excl.id), excl);
  // refused: a bad percentage, inclusive missing, percentage or inclusive on update
  for (const p of ['100.5', '-1', '1.00001', 'abc']) {
    await assert.rejects(stripe.taxRates.create({ display_name: 'x', percentage: p, inclusive: false }),
      (e) => e.statusCode === 400 && e.param === 'percentage');
  }
  await assert.rejects(stripe.taxRates.create({ display_name: 'x', percentage: 5 }),
    (e) => e.statusCode === 400 && e.param === 'inclusive');
  await assert.rejects(stripe.taxRates.update(excl.id, { percentage: 9 }), (e) => e.statusCode === 400);
  await assert.rejects(stripe.taxRates.update(excl.id, { inclusive: true }), (e) => e.statusCode === 400);
  // labels change; archived, it is listed as inactive
  const upd = await stripe.taxRates.update(fine.id, { display_name: 'Finer', description: 'd', active: false });
  assert.equal(upd.display_name, 'Finer');
  assert.equal(upd.active, false);
  assert.equal(upd.percentage, 7.0001);
  const evs = await eventsOf(fine.id);
  assert.deepEqual(evs.map((e) => e.type), ['tax_rate.created', 'tax_rate.updated']);
  assert.deepEqual(evs[1].data.previous_attributes, { description: null, display_name: 'Fine', active: true });
  assert.deepEqual((await stripe.taxRates.list({ limit: 10 })).data.map((t) => t.id), [fine.id, incl.id, excl.id]);
  assert.deepEqual((await stripe.taxRates.list({ active: true })).data.map((t) => t.id), [incl.id, excl.id]);
  assert.deepEqual((await stripe.taxRates.list({ active: false })).data.map((t) => t.id), [fine.id]);
  assert.deepEqual((await stripe.taxRates.list({ inclusive: true })).data.map((t) => t.id), [incl.id]);
  const page = await stripe.taxRates.list({ limit: 1, starting_after: fine.id });
  assert.deepEqual(page.data.map((t) => t.id), [incl.id]);
  assert.equal(page.has_more, true);
  // another merchant's rate does not exist here
  await assert.rejects(other.taxRates.retrieve(excl.id), (e) => e.statusCode === 404);
  // an archived rate is not newly applied
  const cus = await stripe.customers.create({ email: 'a@example.com' });
  await assert.rejects(stripe.invoiceItems.create({ customer: cus.id, amount: 100, currency: 'usd', tax_rates: [fine.id] }),
    (e) => e.statusCode === 400 && e.param === 'tax_rates');
  await assert.rejects(stripe.invoiceItems.create({ customer: cus.id, amount: 100, currency: 'usd', tax_rates: ['txr_nope'] }),
    (e) => e.statusCode === 404 && e.param === 'tax_rates');
});

test('a one-off invoice: exclusive and inclusive rates after a discount, finalized and paid', async () => {
  const customer = await stripe.customers.create({
    email: 'tax@example.com', payment_method: 'pm_card_visa',
    invoice_settings: { default_payment_method: 'pm_card_visa' },
  });
  const coupon = await stripe.coupons.create({ percent_off: 10 });
  const inv = await stripe.invoices.create({
    customer: customer.id, default_tax_rates: [excl.id], discounts: [{ coupon: coupon.id }],
  });
  // a: its own exclusive rate; b: its own inclusive rate; c: the invoice's default (exclusive)
  const a = await stripe.invoiceItems.create({ customer: customer.id, invoice: inv.id, amount: 1000, currency: 'usd', description: 'A', tax_rates: [excl.id] });
  const b = await stripe.invoiceItems.create({ customer: customer.id, invoice: inv.id, amount: 1200, currency: 'usd', description: 'B', tax_rates: [incl.id] });
  const c = await stripe.invoiceItems.create({ customer: customer.id, invoice: inv.id, amount: 500, currency: 'usd', description: 'C' });
  assert.deepEqual(a.tax_rates.map((t) => t.id), [excl.id]);
  assert.deepEqual(c.tax_rates, []);
  // after 10 % off: a 900 → 8.25 % = 74.25 → 74; b 1080, 20 % inside it: 180 (net 900);
  // c 450 → 37.125 → 37. total = 2700 − 270 + 74 + 37 = 2541
  const draft = await stripe.invoices.retrieve(inv.id);
  const expectTotals = (i) => {
    assert.equal(i.subtotal, 2700);
    assert.equal(i.total, 2541);
    assert.equal(i.tax, 291);
    assert.equal(i.total_excluding_tax, 2250);
    assert.equal(i.subtotal_excluding_tax, 2500); // 1200 holds 200 of tax before the discount
    assert.deepEqual(i.default_tax_rates.map((t) => t.id), [excl.id]);
    assert.deepEqual(i.total_tax_amounts, [
      { amount: 111, inclusive: false, tax_rate: excl.id, taxability_reason: 'standard_rated', taxable_amount: 1350 },
      { amount: 180, inclusive: true, tax_rate: incl.id, taxability_reason: 'standard_rated', taxable_amount: 900 },
    ]);
    assert.deepEqual(i.total_taxes.map((t) => [t.amount, t.tax_behavior, t.tax_rate_details.tax_rate, t.taxable_amount]),
      [[111, 'exclusive', excl.id, 1350], [180, 'inclusive', incl.id, 900]]);
  };
  expectTotals(draft);
  billingShape(draft, 'invoice');
  // the same computation previews a customer's invoice of pending items, unstored
  const fin = await stripe.invoices.finalizeInvoice(inv.id);
  expectTotals(fin);
  assert.equal(fin.amount_due, 2541);
  const paid = await stripe.invoices.pay(inv.id);
  assert.equal(paid.status, 'paid');
  assert.equal(paid.amount_paid, 2541);
  expectTotals(paid);
  billingShape(paid, 'invoice');
  const full = await stripe.invoices.retrieve(inv.id, { expand: ['payments'] });
  const pi = await stripe.paymentIntents.retrieve(full.payments.data[0].payment.payment_intent,
    { expand: ['latest_charge.balance_transaction'] });
  assert.equal(pi.amount, 2541);
  assert.equal(pi.latest_charge.balance_transaction.amount, 2541);
  const lines = (await stripe.invoices.listLineItems(inv.id)).data;
  const byItem = (id) => lines.find((l) => l.parent.invoice_item_details.invoice_item === id);
  const la = byItem(a.id);
  const lb = byItem(b.id);
  const lc = byItem(c.id);
  assert.deepEqual(la.tax_amounts.map((t) => [t.amount, t.inclusive, t.tax_rate, t.taxable_amount]), [[74, false, excl.id, 900]]);
  assert.deepEqual(la.tax_rates.map((t) => t.id), [excl.id]);
  assert.deepEqual(lb.tax_amounts.map((t) => [t.amount, t.inclusive, t.tax_rate, t.taxable_amount]), [[180, true, incl.id, 900]]);
  assert.deepEqual(lb.taxes.map((t) => [t.amount, t.tax_behavior]), [[180, 'inclusive']]);
  // c takes the invoice's default: its own tax_rates are none
  assert.deepEqual(lc.tax_amounts.map((t) => [t.amount, t.tax_rate]), [[37, excl.id]]);
  assert.deepEqual(lc.tax_rates, []);
  for (const l of lines) lineShape(l);
  assert.equal(la.amount, 1000); // a line's amount is before tax
});

test('a subscription with default_tax_rates and an item\'s own rate renews taxed', async () => {
  const clock = await stripe.testHelpers.testClocks.create({ frozen_time: T0 });
  const customer = await stripe.customers.create({
    test_clock: clock.id, email: 'sub@example.com', payment_method: 'pm_card_visa',
    invoice_settings: { default_payment_method: 'pm_card_visa' },
  });
  const base = await stripe.prices.create({ currency: 'usd', unit_amount: 1000, recurring: { interval: 'month' }, product_data: { name: 'Base' } });
  const eu = await stripe.prices.create({ currency: 'usd', unit_amount: 1200, recurring: { interval: 'month' }, product_data: { name: 'EU seat' } });
  const sub = await stripe.subscriptions.create({
    customer: customer.id, default_tax_rates: [excl.id],
    items: [{ price: base.id }, { price: eu.id, tax_rates: [incl.id] }],
    expand: ['latest_invoice'],
  });
  assert.equal(sub.status, 'active');
  assert.deepEqual(sub.default_tax_rates.map((t) => t.id), [excl.id]);
  assert.deepEqual(sub.items.data.map((i) => i.tax_rates.map((t) => t.id)), [[], [incl.id]]);
  // base: 1000 + 82.5 → 83; eu: 200 inside 1200. 2200 + 83
  const first = sub.latest_invoice;
  assert.equal(first.total, 2283);
  assert.equal(first.amount_paid, 2283);
  assert.equal(first.tax, 283);
  billingShape(first, 'invoice');
  // what the next one will be: the preview's computation is the invoice's
  const preview = await stripe.invoices.createPreview({ customer: customer.id, subscription: sub.id });
  assert.equal(preview.total, 2283);
  assert.deepEqual(preview.total_tax_amounts.map((t) => [t.amount, t.inclusive]), [[83, false], [200, true]]);
  assert.deepEqual(preview.lines.data.map((l) => l.tax_amounts.map((t) => t.amount)), [[83], [200]]);
  // the renewal takes the rates
  await clockAdvance(stripe, clock, APR1 + HOUR + 60);
  const cur = await stripe.subscriptions.retrieve(sub.id);
  const next = await stripe.invoices.retrieve(cur.latest_invoice, { expand: ['payments'] });
  assert.notEqual(next.id, first.id);
  assert.equal(next.status, 'paid');
  assert.equal(next.total, 2283);
  assert.equal(next.total_excluding_tax, 2000);
  assert.deepEqual(next.default_tax_rates.map((t) => t.id), [excl.id]);
  const pi = await stripe.paymentIntents.retrieve(next.payments.data[0].payment.payment_intent);
  assert.equal(pi.amount, 2283);
  const lines = (await stripe.invoices.listLineItems(next.id)).data;
  assert.deepEqual(lines.map((l) => l.tax_amounts.map((t) => [t.amount, t.inclusive])), [[[83, false]], [[200, true]]]);
  assert.deepEqual(lines.map((l) => l.tax_rates.map((t) => t.id)), [[], [incl.id]]);
  for (const l of lines) lineShape(l);
  // a change invoiced at once: its prorations are taxed at their item's own (inclusive) rate,
  // and what the change charges is that invoice's total
  const euItem = cur.items.data.find((i) => i.price.id === eu.id);
  const changed = await stripe.subscriptions.update(sub.id, {
    items: [{ id: euItem.id, quantity: 2 }], proration_behavior: 'always_invoice', expand: ['latest_invoice'],
  });
  const pinv = changed.latest_invoice;
  assert.notEqual(pinv.id, next.id);
  assert.equal(pinv.status, 'paid');
  const plines = (await stripe.invoices.listLineItems(pinv.id)).data;
  assert.equal(plines.length, 2);
  let exclusive = 0;
  let inclusive = 0;
  for (const l of plines) {
    assert.equal(l.parent.invoice_item_details.proration, true);
    assert.deepEqual(l.tax_amounts.map((t) => [t.tax_rate, t.inclusive]), [[incl.id, true]]);
    // 20 % inside the amount, rounded half away from zero (a credit's is negative)
    const want = Math.sign(l.amount) * Math.round(Math.abs(l.amount) * 20 / 120);
    assert.equal(l.tax_amounts[0].amount, want);
    inclusive += want;
    lineShape(l);
  }
  assert.equal(pinv.total, plines.reduce((a, l) => a + l.amount, 0) + exclusive);
  assert.equal(pinv.tax, inclusive);
  billingShape(pinv, 'invoice');
  // the defaults removed: the next renewal charges the inclusive item's tax only
  const upd = await stripe.subscriptions.update(sub.id, { default_tax_rates: '' });
  assert.deepEqual(upd.default_tax_rates, []);
  const p2 = await stripe.invoices.createPreview({ customer: customer.id, subscription: sub.id });
  assert.equal(p2.total, 3400);
  assert.equal(p2.tax, 400);
  assert.deepEqual(p2.default_tax_rates, []);
  // an untaxed invoice shows no tax
  const plain = await stripe.invoices.create({ customer: customer.id });
  assert.equal(plain.tax, null);
  assert.deepEqual(plain.total_tax_amounts, []);
});
