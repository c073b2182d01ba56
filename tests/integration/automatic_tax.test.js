'use strict';
// automatic_tax (Stripe Tax) on invoices and subscriptions through stripe-node: the merchant's
// tax settings and registrations (DE, US-CA); a German customer's invoice taxed at 19 % (the
// PaymentIntent charges the total with tax); a Californian's subscription at 7.25 %, renewing
// taxed through a test clock; a French business with a valid VAT id reverse charged (no tax);
// a customer without an address refused at finalize (customer_tax_location_invalid; the draft
// requires_location_inputs); a customer in a country without a registration not taxed; manual
// tax rates and automatic tax refused together. Amounts exact; invoices and subscriptions
// checked against Stripe's spec; `tender verify` passes at the end.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { startTender, stopAll, tender } = require('./helpers');
const { billingShape, clockAdvance } = require('./billing_helpers');

let env;
let stripe;

before(async () => {
  env = await startTender();
  stripe = env.stripe();
});
after(stopAll);

async function fails(p, status, code) {
  await assert.rejects(p, (e) => {
    assert.equal(e.statusCode, status, e.message);
    if (code) assert.equal(e.code, code, e.message);
    return true;
  });
}

const DE = { line1: 'Unter den Linden 1', city: 'Berlin', postal_code: '10117', country: 'DE' };
const CA = { line1: '354 Oyster Point Blvd', city: 'South San Francisco', state: 'CA', postal_code: '94080', country: 'US' };
const FR = { line1: '1 Rue de Rivoli', city: 'Paris', postal_code: '75001', country: 'FR' };
const JP = { line1: '1-1 Chiyoda', city: 'Tokyo', postal_code: '100-0001', country: 'JP' };

async function customer(extra) {
  return stripe.customers.create({
    payment_method: 'pm_card_visa',
    invoice_settings: { default_payment_method: 'pm_card_visa' },
    ...extra,
  });
}

async function taxedInvoice(cus, amount, currency, params = {}) {
  await stripe.invoiceItems.create({ customer: cus.id, amount, currency, description: 'Consulting' });
  return stripe.invoices.create({
    customer: cus.id, pending_invoice_items_behavior: 'include', automatic_tax: { enabled: true }, ...params,
  });
}

test('tax settings and registrations (DE, US-CA)', async () => {
  await stripe.tax.settings.update({
    defaults: { tax_behavior: 'exclusive' },
    head_office: { address: { country: 'DE', city: 'Berlin', postal_code: '10117' } },
  });
  await stripe.tax.registrations.create({
    country: 'DE', country_options: { de: { type: 'standard' } }, active_from: 'now',
  });
  await stripe.tax.registrations.create({
    country: 'US', country_options: { us: { type: 'state_sales_tax', state: 'CA' } }, active_from: 'now',
  });
});

test('a German customer\'s invoice: 19 % VAT, charged with the tax', async () => {
  const cus = await customer({ address: DE, email: 'de@example.com' });
  const draft = await taxedInvoice(cus, 10000, 'eur');
  assert.equal(draft.automatic_tax.enabled, true);
  assert.equal(draft.automatic_tax.status, 'complete');
  assert.deepEqual(draft.automatic_tax.liability, { type: 'self' });
  assert.equal(draft.subtotal, 10000);
  assert.equal(draft.tax, 1900);
  assert.equal(draft.total, 11900);
  assert.equal(draft.total_excluding_tax, 10000);
  billingShape(draft, 'invoice');
  const fin = await stripe.invoices.finalizeInvoice(draft.id);
  assert.equal(fin.status, 'open');
  assert.equal(fin.amount_due, 11900);
  assert.equal(fin.automatic_tax.status, 'complete');
  assert.equal(fin.total_tax_amounts.length, 1);
  assert.equal(fin.total_tax_amounts[0].amount, 1900);
  assert.equal(fin.total_tax_amounts[0].taxable_amount, 10000);
  assert.equal(fin.total_tax_amounts[0].inclusive, false);
  const line = fin.lines.data[0];
  assert.equal(line.tax_amounts[0].amount, 1900);
  assert.equal(line.taxes[0].amount, 1900);
  assert.equal(line.taxes[0].tax_behavior, 'exclusive');
  const rate = await stripe.taxRates.retrieve(line.tax_amounts[0].tax_rate);
  assert.equal(rate.percentage, 19);
  assert.equal(rate.country, 'DE');
  // Stripe Tax's own rates are not the merchant's: not listed
  const listed = await stripe.taxRates.list({ limit: 100 });
  assert.ok(!listed.data.some((t) => t.id === rate.id));
  billingShape(fin, 'invoice');
  const paid = await stripe.invoices.pay(fin.id);
  assert.equal(paid.status, 'paid');
  assert.equal(paid.amount_paid, 11900);
  const full = await stripe.invoices.retrieve(paid.id, { expand: ['payments'] });
  const pi = await stripe.paymentIntents.retrieve(full.payments.data[0].payment.payment_intent);
  assert.equal(pi.amount, 11900);
  billingShape(paid, 'invoice');
});

test('an invoice item\'s own tax_behavior and tax_code, and its product\'s tax_code: each line taxed by its own', async () => {
  const cus = await customer({ address: DE, email: 'codes@example.com' });
  const inc = await stripe.invoiceItems.create({ customer: cus.id, amount: 10000, currency: 'eur', tax_behavior: 'inclusive' });
  const exempt = await stripe.invoiceItems.create({ customer: cus.id, amount: 5000, currency: 'eur', tax_code: 'txcd_00000000' });
  const product = await stripe.products.create({ name: 'Exempt book', tax_code: 'txcd_00000000' });
  const price = await stripe.prices.create({ product: product.id, unit_amount: 3000, currency: 'eur' });
  await stripe.invoiceItems.create({ customer: cus.id, price: price.id });
  const plain = await stripe.invoiceItems.create({ customer: cus.id, amount: 2000, currency: 'eur' });
  const draft = await stripe.invoices.create({
    customer: cus.id, pending_invoice_items_behavior: 'include', automatic_tax: { enabled: true },
  });
  const byAmount = Object.fromEntries(draft.lines.data.map((l) => [l.amount, l]));
  // inclusive: the 19 % inside 100.00 (15.97); exempt by its code or its product's: an entry of 0
  assert.deepEqual(byAmount[10000].taxes.map((t) => [t.amount, t.tax_behavior]), [[1597, 'inclusive']]);
  assert.deepEqual(byAmount[5000].taxes.map((t) => [t.amount, t.taxability_reason]), [[0, 'product_exempt']]);
  assert.deepEqual(byAmount[3000].taxes.map((t) => [t.amount, t.taxability_reason]), [[0, 'product_exempt']]);
  assert.deepEqual(byAmount[2000].taxes.map((t) => [t.amount, t.tax_behavior]), [[380, 'exclusive']]);
  assert.equal(draft.subtotal, 20000);
  assert.equal(draft.tax, 1597 + 380);
  assert.equal(draft.total, 20000 + 380);
  billingShape(draft, 'invoice');
  // a behaviour stays what it was made; a code must be Stripe's
  await fails(stripe.invoiceItems.update(inc.id, { tax_behavior: 'exclusive' }), 400);
  await fails(stripe.invoiceItems.update(plain.id, { tax_code: 'txcd_nope' }), 404);
  // the code changes on a draft's item, and the draft follows
  await stripe.invoiceItems.update(exempt.id, { tax_code: 'txcd_99999999' });
  const after = await stripe.invoices.retrieve(draft.id);
  assert.equal(after.tax, 1597 + 380 + 950);
});

test('rounding: each line rounded halves away from zero', async () => {
  const cus = await customer({ address: DE });
  // 19 % of 1050 = 199.5 → 200; of 1049 = 199.31 → 199
  await stripe.invoiceItems.create({ customer: cus.id, amount: 1050, currency: 'eur' });
  await stripe.invoiceItems.create({ customer: cus.id, amount: 1049, currency: 'eur' });
  const inv = await stripe.invoices.create({
    customer: cus.id, pending_invoice_items_behavior: 'include', automatic_tax: { enabled: true },
  });
  assert.equal(inv.tax, 399);
  assert.equal(inv.total, 1050 + 1049 + 399);
});

test('an unregistered country is not taxed', async () => {
  const cus = await customer({ address: JP });
  const inv = await taxedInvoice(cus, 5000, 'jpy');
  assert.equal(inv.automatic_tax.status, 'complete');
  assert.equal(inv.tax, 0);
  assert.equal(inv.total, 5000);
  const fin = await stripe.invoices.finalizeInvoice(inv.id);
  assert.equal(fin.amount_due, 5000);
  billingShape(fin, 'invoice');
});

test('a French business with a valid VAT id is reverse charged', async () => {
  const cus = await customer({ address: FR, tax_id_data: [{ type: 'eu_vat', value: 'FR12345678901' }] });
  const inv = await taxedInvoice(cus, 10000, 'eur');
  assert.equal(inv.tax, 0);
  assert.equal(inv.total, 10000);
  const fin = await stripe.invoices.finalizeInvoice(inv.id);
  assert.equal(fin.amount_due, 10000);
});

test('an exempt customer owes no tax', async () => {
  const cus = await customer({ address: DE, tax_exempt: 'exempt' });
  const inv = await taxedInvoice(cus, 10000, 'eur');
  assert.equal(inv.tax, 0);
  assert.equal(inv.total, 10000);
});

test('a customer without an address: requires_location_inputs, refused at finalize', async () => {
  const cus = await customer({});
  const inv = await taxedInvoice(cus, 10000, 'eur');
  assert.equal(inv.automatic_tax.status, 'requires_location_inputs');
  assert.equal(inv.tax, 0);
  billingShape(inv, 'invoice');
  await fails(stripe.invoices.finalizeInvoice(inv.id), 400, 'customer_tax_location_invalid');
  // located afterwards: finalized with its tax
  await stripe.customers.update(cus.id, { address: DE });
  const fin = await stripe.invoices.finalizeInvoice(inv.id);
  assert.equal(fin.tax, 1900);
  assert.equal(fin.amount_due, 11900);
});

test('automatic tax on a draft by update; manual tax rates refused with it', async () => {
  const cus = await customer({ address: DE });
  await stripe.invoiceItems.create({ customer: cus.id, amount: 2000, currency: 'eur' });
  const inv = await stripe.invoices.create({ customer: cus.id, pending_invoice_items_behavior: 'include' });
  assert.equal(inv.automatic_tax.enabled, false);
  assert.equal(inv.tax, null);
  const up = await stripe.invoices.update(inv.id, { automatic_tax: { enabled: true } });
  assert.equal(up.automatic_tax.enabled, true);
  assert.equal(up.tax, 380);
  assert.equal(up.total, 2380);
  const off = await stripe.invoices.update(inv.id, { automatic_tax: { enabled: false } });
  assert.equal(off.total, 2000);
  const txr = await stripe.taxRates.create({ display_name: 'VAT', percentage: 19, inclusive: false });
  await fails(stripe.invoices.update(inv.id, { automatic_tax: { enabled: true }, default_tax_rates: [txr.id] }), 400);
  await fails(stripe.invoices.create({
    customer: cus.id, automatic_tax: { enabled: true }, default_tax_rates: [txr.id],
  }), 400);
});

test('a Californian\'s subscription: 7.25 % on the first invoice, the preview and the renewal', async () => {
  const DAY = 86400;
  const T0 = Math.floor(Date.now() / 1000);
  const clock = await stripe.testHelpers.testClocks.create({ frozen_time: T0 });
  const cus = await customer({ address: CA, test_clock: clock.id });
  const price = await stripe.prices.create({
    currency: 'usd', unit_amount: 1000, recurring: { interval: 'month' }, product_data: { name: 'Plan' },
  });
  const sub = await stripe.subscriptions.create({
    customer: cus.id, items: [{ price: price.id }], automatic_tax: { enabled: true },
  });
  assert.equal(sub.status, 'active');
  assert.equal(sub.automatic_tax.enabled, true);
  assert.deepEqual(sub.automatic_tax.liability, { type: 'self' });
  billingShape(sub, 'subscription');
  // 7.25 % of 1000 = 72.5 → 73
  const first = await stripe.invoices.retrieve(sub.latest_invoice);
  assert.equal(first.automatic_tax.enabled, true);
  assert.equal(first.tax, 73);
  assert.equal(first.total, 1073);
  assert.equal(first.amount_paid, 1073);
  assert.equal(first.status, 'paid');
  billingShape(first, 'invoice');
  const preview = await stripe.invoices.createPreview({ subscription: sub.id });
  assert.equal(preview.tax, 73);
  assert.equal(preview.total, 1073);
  await clockAdvance(stripe, clock, T0 + 32 * DAY);
  const invoices = (await stripe.invoices.list({ customer: cus.id })).data;
  assert.equal(invoices.length, 2);
  const renewal = invoices.find((i) => i.id !== first.id);
  assert.equal(renewal.billing_reason, 'subscription_cycle');
  assert.equal(renewal.tax, 73);
  assert.equal(renewal.total, 1073);
  assert.equal(renewal.status, 'paid');
  assert.equal(renewal.total_tax_amounts[0].amount, 73);
  billingShape(renewal, 'invoice');
  // turned off: the next invoice is untaxed
  const off = await stripe.subscriptions.update(sub.id, { automatic_tax: { enabled: false } });
  assert.equal(off.automatic_tax.enabled, false);
  const next = await stripe.invoices.createPreview({ subscription: sub.id });
  assert.equal(next.total, 1000);
  // and manual rates are refused with it
  const txr = await stripe.taxRates.create({ display_name: 'Sales tax', percentage: 5, inclusive: false });
  await fails(stripe.subscriptions.create({
    customer: cus.id, items: [{ price: price.id }], automatic_tax: { enabled: true }, default_tax_rates: [txr.id],
  }), 400);
});

test('a subscription schedule: default_settings[automatic_tax] taxes its first phase, a phase turning it off untaxes the next', async () => {
  const DAY = 86400;
  const T0 = Math.floor(Date.now() / 1000);
  const clock = await stripe.testHelpers.testClocks.create({ frozen_time: T0 });
  const cus = await customer({ address: CA, test_clock: clock.id });
  const price = await stripe.prices.create({
    currency: 'usd', unit_amount: 1000, recurring: { interval: 'month' }, product_data: { name: 'Scheduled plan' },
  });
  const sched = await stripe.subscriptionSchedules.create({
    customer: cus.id, start_date: 'now', end_behavior: 'release',
    default_settings: { automatic_tax: { enabled: true } },
    phases: [
      { items: [{ price: price.id }], iterations: 1 },
      { items: [{ price: price.id }], iterations: 1, automatic_tax: { enabled: false } },
    ],
  });
  assert.deepEqual(sched.default_settings.automatic_tax, { disabled_reason: null, enabled: true, liability: { type: 'self' } });
  assert.deepEqual(sched.phases.map((p) => p.automatic_tax.enabled), [true, false]);
  billingShape(sched, 'subscription_schedule');
  const sub = await stripe.subscriptions.retrieve(sched.subscription);
  assert.equal(sub.automatic_tax.enabled, true);
  const first = await stripe.invoices.retrieve(sub.latest_invoice);
  assert.equal(first.automatic_tax.enabled, true);
  assert.equal(first.tax, 73);
  assert.equal(first.total, 1073);
  assert.equal(first.status, 'paid');
  // the second phase (entered before the renewal) turns it off: the renewal is untaxed
  await clockAdvance(stripe, clock, T0 + 32 * DAY);
  assert.equal((await stripe.subscriptions.retrieve(sub.id)).automatic_tax.enabled, false);
  const renewal = (await stripe.invoices.list({ customer: cus.id })).data.find((i) => i.id !== first.id);
  assert.equal(renewal.billing_reason, 'subscription_cycle');
  assert.equal(renewal.automatic_tax.enabled, false);
  assert.equal(renewal.tax, null);
  assert.equal(renewal.total, 1000);
});

test('tender verify passes', async () => {
  assert.match(tender(['verify', '--data', env.dataDir]), /verify: ok/);
});
