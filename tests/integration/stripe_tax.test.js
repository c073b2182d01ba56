'use strict';
// Stripe Tax through stripe-node: the merchant's tax settings (pending until a head office is
// set, tax.settings.updated), registrations (DE, US-CA, GB; a scheduled and an ended one; list
// by status), calculations for a German, a Californian, a British (inclusive), a French (not
// registered: not_collecting) and a reverse-charged French business customer, with shipping,
// the customer's location errors and an exempt customer; a transaction made once from a
// calculation, and its reversals (partial by line, by flat amount, then full). Every object is
// checked against Stripe's OpenAPI spec (tax.registration is not in the spec Tender has: its
// shape is checked against Stripe's 2026 fixture's keys instead).
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const path = require('path');
const { startTender, stopAll, assertStripeShape, SHARED } = require('./helpers');

let env;
let stripe;
let other;

before(async () => {
  env = await startTender({ merchants: 2 });
  stripe = env.stripe();
  other = env.stripe(env.merchants[1].secret_key);
});
after(stopAll);

const FIXTURES = require(path.join(SHARED, 'reference', 'stripe-openapi', 'fixtures3.head-2026-08-21.json'));
function assertRegistrationShape(reg) {
  const want = Object.keys(FIXTURES.resources['tax.registration']).sort();
  assert.deepEqual(Object.keys(reg).filter((k) => k !== 'lastResponse').sort(), want);
  assert.equal(reg.object, 'tax.registration');
  assert.match(reg.id, /^taxreg_/);
  assert.ok(['active', 'expired', 'scheduled'].includes(reg.status));
}

async function fails(p, status, code) {
  await assert.rejects(p, (e) => {
    assert.equal(e.statusCode, status, e.message);
    if (code) assert.equal(e.code, code, e.message);
    return true;
  });
}

const DE = { line1: 'Unter den Linden 1', city: 'Berlin', postal_code: '10117', country: 'DE' };
const CA = { line1: '354 Oyster Point Blvd', city: 'South San Francisco', state: 'CA', postal_code: '94080', country: 'US' };
const GB = { line1: '10 Downing Street', city: 'London', postal_code: 'SW1A 2AA', country: 'GB' };
const FR = { line1: '1 Rue de Rivoli', city: 'Paris', postal_code: '75001', country: 'FR' };

test('tax settings: pending until a head office, then active; tax.settings.updated', async () => {
  const s0 = await stripe.tax.settings.retrieve();
  assert.equal(s0.object, 'tax.settings');
  assert.equal(s0.status, 'pending');
  assert.deepEqual(s0.status_details.pending.missing_fields, ['head_office']);
  assert.equal(s0.head_office, null);
  assertStripeShape(s0, 'tax.settings');
  await fails(stripe.tax.settings.update({ defaults: { tax_code: 'nope' } }), 400);
  const s1 = await stripe.tax.settings.update({
    defaults: { tax_behavior: 'exclusive', tax_code: 'txcd_99999999' },
    head_office: { address: { country: 'de', city: 'Berlin', postal_code: '10117' } },
  });
  assert.equal(s1.status, 'active');
  assert.deepEqual(s1.status_details, { active: {} });
  assert.equal(s1.defaults.tax_code, 'txcd_99999999');
  assert.equal(s1.defaults.tax_behavior, 'exclusive');
  assert.equal(s1.head_office.address.country, 'DE');
  assert.equal(s1.head_office.address.line1, null);
  assertStripeShape(s1, 'tax.settings');
  const again = await stripe.tax.settings.retrieve();
  assert.deepEqual({ ...again, lastResponse: undefined }, { ...s1, lastResponse: undefined });
  const events = await stripe.events.list({ type: 'tax.settings.updated' });
  assert.equal(events.data.length, 1);
  assert.equal(events.data[0].data.object.status, 'active');
  assert.equal(events.data[0].data.previous_attributes.status, 'pending');
  assert.equal(events.data[0].data.previous_attributes.head_office, null);
  // another merchant's settings are its own
  assert.equal((await other.tax.settings.retrieve()).status, 'pending');
});

let regDE;
test('tax registrations: create, retrieve, list by status, update, errors', async () => {
  regDE = await stripe.tax.registrations.create({
    country: 'DE', country_options: { de: { type: 'standard' } }, active_from: 'now',
  });
  assertRegistrationShape(regDE);
  assert.equal(regDE.status, 'active');
  assert.equal(regDE.country, 'DE');
  assert.deepEqual(regDE.country_options.de.type, 'standard');
  assert.equal(regDE.expires_at, null);
  const regCA = await stripe.tax.registrations.create({
    country: 'US', country_options: { us: { type: 'state_sales_tax', state: 'CA' } }, active_from: 'now',
  });
  assert.deepEqual(regCA.country_options, { us: { state: 'CA', type: 'state_sales_tax' } });
  assertRegistrationShape(regCA);
  const regGB = await stripe.tax.registrations.create({
    country: 'GB', country_options: { gb: { type: 'standard' } }, active_from: 'now',
  });
  assertRegistrationShape(regGB);
  // scheduled: Australia next year; then ended at once
  const later = Math.floor(Date.now() / 1000) + 365 * 86400;
  const regAU = await stripe.tax.registrations.create({
    country: 'AU', country_options: { au: { type: 'standard' } }, active_from: later,
  });
  assert.equal(regAU.status, 'scheduled');
  assert.equal(regAU.active_from, later);
  const regNO = await stripe.tax.registrations.create({
    country: 'NO', country_options: { no: { type: 'standard' } }, active_from: 'now',
  });
  const ended = await stripe.tax.registrations.update(regNO.id, { expires_at: 'now' });
  assert.equal(ended.status, 'expired');
  assert.ok(ended.expires_at > 0);
  assertRegistrationShape(ended);
  await fails(stripe.tax.registrations.update(regNO.id, { expires_at: '' }), 400);

  const got = await stripe.tax.registrations.retrieve(regCA.id);
  assert.equal(got.id, regCA.id);
  const active = await stripe.tax.registrations.list({ status: 'active' });
  assert.deepEqual(active.data.map((r) => r.country).sort(), ['DE', 'GB', 'US']);
  assert.deepEqual((await stripe.tax.registrations.list({ status: 'scheduled' })).data.map((r) => r.id), [regAU.id]);
  assert.deepEqual((await stripe.tax.registrations.list({ status: 'expired' })).data.map((r) => r.id), [regNO.id]);
  const all = await stripe.tax.registrations.list({ limit: 2 });
  assert.equal(all.data.length, 2);
  assert.equal(all.has_more, true);
  const rest = await stripe.tax.registrations.list({ starting_after: all.data[1].id });
  assert.equal(rest.data.length, 3);
  // a scheduled one's start moves; it can also be given an end
  const moved = await stripe.tax.registrations.update(regAU.id, { active_from: later + 60, expires_at: later + 3600 });
  assert.equal(moved.active_from, later + 60);
  assert.equal(moved.expires_at, later + 3600);

  // errors: the same jurisdiction twice, options of another country, an unsupported one,
  // a US state missing, a past active_from; another merchant's registration is not found
  await fails(stripe.tax.registrations.create({
    country: 'DE', country_options: { de: { type: 'standard' } }, active_from: 'now',
  }), 400);
  await fails(stripe.tax.registrations.create({
    country: 'FR', country_options: { de: { type: 'standard' } }, active_from: 'now',
  }), 400);
  await fails(stripe.tax.registrations.create({
    country: 'BR', country_options: {}, active_from: 'now',
  }), 400);
  await fails(stripe.tax.registrations.create({
    country: 'US', country_options: { us: { type: 'state_sales_tax' } }, active_from: 'now',
  }), 400, 'parameter_missing');
  await fails(stripe.tax.registrations.create({
    country: 'GB', country_options: { gb: { type: 'standard' } }, active_from: 1000,
  }), 400);
  await fails(other.tax.registrations.retrieve(regDE.id), 404, 'resource_missing');
  assert.equal((await other.tax.registrations.list()).data.length, 0);
});

function breakdownOf(calc) {
  return calc.tax_breakdown.map((b) => [b.taxability_reason, b.tax_rate_details.country,
    b.tax_rate_details.state, b.tax_rate_details.percentage_decimal, b.amount, b.taxable_amount, b.inclusive]);
}

let calcCA;
test('tax calculations: German, Californian (shipping), British inclusive, French not registered', async () => {
  const de = await stripe.tax.calculations.create({
    currency: 'eur',
    line_items: [{ amount: 1000, reference: 'Book' }, { amount: 2500, quantity: 2, reference: 'Lamp', tax_code: 'txcd_99999999' }],
    customer_details: { address: DE, address_source: 'billing' },
    expand: ['line_items.data.tax_breakdown'],
  });
  assert.match(de.id, /^taxcalc_/);
  assert.equal(de.tax_amount_exclusive, 190 + 475);
  assert.equal(de.tax_amount_inclusive, 0);
  assert.equal(de.amount_total, 3500 + 665);
  assert.deepEqual(breakdownOf(de), [['standard_rated', 'DE', null, '19.0', 665, 3500, false]]);
  assert.equal(de.tax_breakdown[0].tax_rate_details.tax_type, 'vat');
  assert.ok(de.expires_at >= de.tax_date + 90 * 86400 - 5);
  assertStripeShape(de, 'tax.calculation');
  assert.equal(de.line_items.data.length, 2);
  const book = de.line_items.data[0];
  assert.equal(book.amount_tax, 190);
  assert.equal(book.tax_code, 'txcd_99999999'); // the settings' default
  assert.equal(book.tax_behavior, 'exclusive');
  assert.deepEqual(book.tax_breakdown[0].jurisdiction, { country: 'DE', display_name: 'Germany', level: 'country', state: null });
  assert.equal(book.tax_breakdown[0].sourcing, 'destination');
  assert.deepEqual(book.tax_breakdown[0].tax_rate_details, { display_name: 'VAT', percentage_decimal: '19.0', tax_type: 'vat' });
  for (const li of de.line_items.data) assertStripeShape(li, 'tax.calculation_line_item');

  // California: 7.25 % state rate; 1499 → 108.6775 → 109; shipping 300 → 21.75 → 22
  calcCA = await stripe.tax.calculations.create({
    currency: 'usd',
    line_items: [
      { amount: 1499, reference: 'Pizza', quantity: 1, metadata: { sku: 'p1' } },
      { amount: 1000, reference: 'Gift card', tax_code: 'txcd_00000000' },
    ],
    shipping_cost: { amount: 300 },
    customer_details: { address: CA, address_source: 'shipping' },
  });
  assert.equal(calcCA.tax_amount_exclusive, 109 + 22);
  assert.equal(calcCA.amount_total, 1499 + 1000 + 300 + 131);
  assert.equal(calcCA.line_items, null);
  assert.equal(calcCA.shipping_cost.amount, 300);
  assert.equal(calcCA.shipping_cost.amount_tax, 22);
  assert.equal(calcCA.shipping_cost.tax_code, 'txcd_92010001');
  assert.deepEqual(breakdownOf(calcCA), [
    ['standard_rated', 'US', 'CA', '7.25', 131, 1799, false],
    ['product_exempt', 'US', 'CA', '0.0', 0, 0, false],
  ]);
  assert.equal(calcCA.tax_breakdown[0].tax_rate_details.tax_type, 'sales_tax');
  assertStripeShape(calcCA, 'tax.calculation');
  assert.equal(calcCA.shipping_cost.tax_breakdown, undefined); // includable, as on Stripe
  const lines = await stripe.tax.calculations.listLineItems(calcCA.id, { expand: ['data.tax_breakdown'] });
  assert.equal(lines.data.length, 2);
  assert.equal(lines.data[0].amount_tax, 109);
  assert.deepEqual(lines.data[0].tax_breakdown[0].jurisdiction, { country: 'US', display_name: 'California', level: 'state', state: 'CA' });
  assert.equal(lines.data[1].tax_breakdown[0].taxability_reason, 'product_exempt');
  for (const li of lines.data) assertStripeShape(li, 'tax.calculation_line_item');
  const page = await stripe.tax.calculations.listLineItems(calcCA.id, { limit: 1 });
  assert.equal(page.has_more, true);
  assert.equal(page.data[0].tax_breakdown, null);
  assertStripeShape(page.data[0], 'tax.calculation_line_item');
  const page2 = await stripe.tax.calculations.listLineItems(calcCA.id, { starting_after: page.data[0].id });
  assert.deepEqual(page2.data.map((l) => l.id), [lines.data[1].id]);
  const again = await stripe.tax.calculations.retrieve(calcCA.id, { expand: ['shipping_cost.tax_breakdown'] });
  assert.equal(again.amount_total, calcCA.amount_total);
  assert.deepEqual(again.shipping_cost.tax_breakdown.map((b) => [b.taxability_reason, b.amount, b.taxable_amount]),
    [['standard_rated', 22, 300]]);
  assertStripeShape(again, 'tax.calculation');

  // Britain, inclusive: 1200 holds 200 of 20 % VAT
  const gb = await stripe.tax.calculations.create({
    currency: 'gbp',
    line_items: [{ amount: 1200, tax_behavior: 'inclusive', reference: 'Tea' }, { amount: 999, tax_behavior: 'inclusive', reference: 'Mug' }],
    customer_details: { address: GB, address_source: 'billing' },
  });
  // 999 × 20 / 120 = 166.5 → 167 (halves away from zero)
  assert.equal(gb.tax_amount_inclusive, 200 + 167);
  assert.equal(gb.tax_amount_exclusive, 0);
  assert.equal(gb.amount_total, 2199);
  assert.deepEqual(breakdownOf(gb), [['standard_rated', 'GB', null, '20.0', 367, 1000 + 832, true]]);
  assertStripeShape(gb, 'tax.calculation');

  // France: not registered there (and no OSS): not collecting
  const fr = await stripe.tax.calculations.create({
    currency: 'eur', line_items: [{ amount: 1000 }],
    customer_details: { address: FR, address_source: 'billing' },
  });
  assert.equal(fr.tax_amount_exclusive, 0);
  assert.equal(fr.amount_total, 1000);
  assert.deepEqual(breakdownOf(fr), [['not_collecting', 'FR', null, '0.0', 0, 0, false]]);
  assertStripeShape(fr, 'tax.calculation');
  const frLines = await stripe.tax.calculations.listLineItems(fr.id, { expand: ['data.tax_breakdown'] });
  assert.equal(frLines.data[0].tax_breakdown[0].tax_rate_details, null);
  assert.equal(frLines.data[0].tax_breakdown[0].taxability_reason, 'not_collecting');
});

test('tax calculations: reverse charge, exempt customers, a customer object, location errors', async () => {
  // a French business with a VAT id, buying from a German head office registered in DE
  const rc = await stripe.tax.calculations.create({
    currency: 'eur', line_items: [{ amount: 5000, reference: 'Consulting' }],
    customer_details: { address: FR, address_source: 'billing', tax_ids: [{ type: 'eu_vat', value: 'FRAB123456789' }] },
  });
  assert.equal(rc.tax_amount_exclusive, 0);
  assert.equal(rc.amount_total, 5000);
  assert.deepEqual(breakdownOf(rc), [['reverse_charge', 'FR', null, '0.0', 0, 0, false]]);
  assert.deepEqual(rc.customer_details.tax_ids, [{ type: 'eu_vat', value: 'FRAB123456789' }]);
  assertStripeShape(rc, 'tax.calculation');
  // a German business is taxed at home
  const deB2B = await stripe.tax.calculations.create({
    currency: 'eur', line_items: [{ amount: 5000 }],
    customer_details: { address: DE, address_source: 'billing', tax_ids: [{ type: 'eu_vat', value: 'DE123456789' }] },
  });
  assert.equal(deB2B.tax_amount_exclusive, 950);
  await fails(stripe.tax.calculations.create({
    currency: 'eur', line_items: [{ amount: 5000 }],
    customer_details: { address: FR, address_source: 'billing', tax_ids: [{ type: 'eu_vat', value: 'FR1' }] },
  }), 400, 'tax_id_invalid');

  const exempt = await stripe.tax.calculations.create({
    currency: 'eur', line_items: [{ amount: 1000 }],
    customer_details: { address: DE, address_source: 'billing', taxability_override: 'customer_exempt' },
  });
  assert.equal(exempt.tax_amount_exclusive, 0);
  assert.equal(exempt.customer_details.taxability_override, 'customer_exempt');
  assert.deepEqual(breakdownOf(exempt), [['customer_exempt', 'DE', null, '0.0', 0, 0, false]]);
  assertStripeShape(exempt, 'tax.calculation');

  // a customer: its shipping address (else its address) and its tax_exempt
  const cus = await stripe.customers.create({ address: { country: 'GB', postal_code: 'SW1A 2AA' } });
  const byCustomer = await stripe.tax.calculations.create({ currency: 'gbp', line_items: [{ amount: 1000 }], customer: cus.id });
  assert.equal(byCustomer.customer, cus.id);
  assert.equal(byCustomer.customer_details.address_source, 'billing');
  assert.equal(byCustomer.tax_amount_exclusive, 200);
  assertStripeShape(byCustomer, 'tax.calculation');
  const ex = await stripe.customers.create({ address: { country: 'GB' }, tax_exempt: 'exempt' });
  const byExempt = await stripe.tax.calculations.create({ currency: 'gbp', line_items: [{ amount: 1000 }], customer: ex.id });
  assert.equal(byExempt.tax_amount_exclusive, 0);
  assert.equal(byExempt.tax_breakdown[0].taxability_reason, 'customer_exempt');
  await fails(other.tax.calculations.create({ currency: 'gbp', line_items: [{ amount: 1000 }], customer: cus.id }), 404, 'resource_missing');

  // a US address by its ZIP code alone is placed in its state
  const byZip = await stripe.tax.calculations.create({
    currency: 'usd', line_items: [{ amount: 1000 }],
    customer_details: { address: { country: 'US', postal_code: '94080' }, address_source: 'billing' },
  });
  assert.deepEqual(breakdownOf(byZip), [['standard_rated', 'US', 'CA', '7.25', 73, 1000, false]]);
  assert.equal(byZip.customer_details.address.state, null);
  // location errors: a US address without a state or a ZIP code Tender places, a customer
  // without an address, an ip address alone
  await fails(stripe.tax.calculations.create({
    currency: 'usd', line_items: [{ amount: 1000 }],
    customer_details: { address: { country: 'US', postal_code: '09012' }, address_source: 'billing' },
  }), 400, 'customer_tax_location_invalid');
  await fails(stripe.tax.calculations.create({
    currency: 'usd', line_items: [{ amount: 1000 }],
    customer_details: { address: { country: 'US' }, address_source: 'billing' },
  }), 400, 'customer_tax_location_invalid');
  await fails(stripe.tax.calculations.create({
    currency: 'usd', line_items: [{ amount: 1000 }], customer_details: { ip_address: '8.8.8.8' },
  }), 400, 'customer_tax_location_invalid');
  const bare = await stripe.customers.create({ email: 'x@example.com' });
  await fails(stripe.tax.calculations.create({ currency: 'usd', line_items: [{ amount: 1000 }], customer: bare.id }),
    400, 'customer_tax_location_invalid');
  await fails(stripe.tax.calculations.create({
    currency: 'usd', line_items: [{ amount: 1000 }], customer_details: { address: CA },
  }), 400, 'parameter_missing');
  await fails(stripe.tax.calculations.create({
    currency: 'usd', line_items: [{ amount: -1 }], customer_details: { address: CA, address_source: 'billing' },
  }), 400);
  // a country Tender has no rates for
  const br = await stripe.tax.calculations.create({
    currency: 'brl', line_items: [{ amount: 1000 }], customer_details: { address: { country: 'BR' }, address_source: 'billing' },
  });
  assert.equal(br.tax_breakdown[0].taxability_reason, 'not_supported');
  assertStripeShape(br, 'tax.calculation');
  // another merchant cannot see a calculation
  await fails(other.tax.calculations.retrieve(calcCA.id), 404, 'resource_missing');
  // idempotency: the same key gives the same calculation
  const p = { currency: 'eur', line_items: [{ amount: 100 }], customer_details: { address: DE, address_source: 'billing' } };
  const a1 = await stripe.tax.calculations.create(p, { idempotencyKey: 'calc-1' });
  const a2 = await stripe.tax.calculations.create(p, { idempotencyKey: 'calc-1' });
  assert.equal(a1.id, a2.id);
});

test('tax transactions: from a calculation once, reversals partial, flat and full', async () => {
  const txn = await stripe.tax.transactions.createFromCalculation({
    calculation: calcCA.id, reference: 'order_1', metadata: { order: '1' }, expand: ['line_items'],
  });
  assert.match(txn.id, /^tax_/);
  assert.equal(txn.type, 'transaction');
  assert.equal(txn.reference, 'order_1');
  assert.equal(txn.reversal, null);
  assert.deepEqual(txn.metadata, { order: '1' });
  assert.deepEqual(txn.shipping_cost, { amount: 300, amount_tax: 22, tax_behavior: 'exclusive', tax_code: 'txcd_92010001' });
  assert.equal(txn.line_items.data.length, 2);
  assertStripeShape({ ...txn, line_items: null }, 'tax.transaction');
  const lines = await stripe.tax.transactions.listLineItems(txn.id);
  assert.deepEqual(lines.data.map((l) => [l.reference, l.amount, l.amount_tax, l.type]),
    [['Pizza', 1499, 109, 'transaction'], ['Gift card', 1000, 0, 'transaction']]);
  assert.deepEqual(lines.data[0].metadata, { sku: 'p1' });
  for (const l of lines.data) assertStripeShape(l, 'tax.transaction_line_item');
  const got = await stripe.tax.transactions.retrieve(txn.id);
  assertStripeShape(got, 'tax.transaction');
  // a calculation makes one transaction; a reference is used once
  await fails(stripe.tax.transactions.createFromCalculation({ calculation: calcCA.id, reference: 'order_2' }), 400);
  const c2 = await stripe.tax.calculations.create({
    currency: 'usd', line_items: [{ amount: 100 }], customer_details: { address: CA, address_source: 'billing' },
  });
  await fails(stripe.tax.transactions.createFromCalculation({ calculation: c2.id, reference: 'order_1' }), 400);
  // the refusal left the calculation unused
  const t2 = await stripe.tax.transactions.createFromCalculation({ calculation: c2.id, reference: 'order_2' });
  assert.equal(t2.line_items, null);
  await fails(other.tax.transactions.retrieve(txn.id), 404, 'resource_missing');

  // partial: half the pizza
  const pizza = lines.data[0];
  const r1 = await stripe.tax.transactions.createReversal({
    mode: 'partial', original_transaction: txn.id, reference: 'order_1-refund-1',
    line_items: [{ original_line_item: pizza.id, amount: -750, amount_tax: -54, reference: 'Pizza refund' }],
    expand: ['line_items'],
  });
  assert.equal(r1.type, 'reversal');
  assert.deepEqual(r1.reversal, { original_transaction: txn.id });
  assert.equal(r1.shipping_cost, null);
  assert.equal(r1.line_items.data.length, 1);
  const rl = r1.line_items.data[0];
  assert.deepEqual([rl.amount, rl.amount_tax, rl.type, rl.reference], [-750, -54, 'reversal', 'Pizza refund']);
  assert.deepEqual(rl.reversal, { original_line_item: pizza.id });
  assertStripeShape({ ...r1, line_items: null }, 'tax.transaction');
  assertStripeShape(rl, 'tax.transaction_line_item');
  // more than is left of the line is refused
  await fails(stripe.tax.transactions.createReversal({
    mode: 'partial', original_transaction: txn.id, reference: 'order_1-refund-x',
    line_items: [{ original_line_item: pizza.id, amount: -750, amount_tax: -56, reference: 'too much' }],
  }), 400);
  // flat: -1000 over what is left (pizza 749+55, gift card 1000, shipping 300+22 = 2126)
  const r2 = await stripe.tax.transactions.createReversal({
    mode: 'partial', original_transaction: txn.id, reference: 'order_1-refund-2', flat_amount: -1000,
    expand: ['line_items'],
  });
  const gross = (l) => l.amount + (l.tax_behavior === 'exclusive' ? l.amount_tax : 0);
  const total = r2.line_items.data.reduce((s, l) => s + gross(l), 0) +
    (r2.shipping_cost ? r2.shipping_cost.amount + r2.shipping_cost.amount_tax : 0);
  assert.equal(total, -1000);
  for (const l of r2.line_items.data) assert.ok(l.amount <= 0 && l.amount_tax <= 0);
  // full: whatever is left, then nothing is
  const r3 = await stripe.tax.transactions.createReversal({
    mode: 'full', original_transaction: txn.id, reference: 'order_1-refund-3', expand: ['line_items'],
  });
  const all = [r1, r2, r3];
  const sumLine = (id, k) => all.flatMap((r) => r.line_items.data).filter((l) => l.reversal.original_line_item === id)
    .reduce((s, l) => s + l[k], 0);
  assert.equal(sumLine(pizza.id, 'amount'), -1499);
  assert.equal(sumLine(pizza.id, 'amount_tax'), -109);
  assert.equal(sumLine(lines.data[1].id, 'amount'), -1000);
  const shipSum = all.reduce((s, r) => s + (r.shipping_cost ? r.shipping_cost.amount : 0), 0);
  assert.equal(shipSum, -300);
  assertStripeShape({ ...r3, line_items: null }, 'tax.transaction');
  await fails(stripe.tax.transactions.createReversal({ mode: 'full', original_transaction: txn.id, reference: 'order_1-refund-4' }), 400);
  // a reversal is not reversed; references stay unique across reversals
  await fails(stripe.tax.transactions.createReversal({ mode: 'full', original_transaction: r1.id, reference: 'x' }), 400);
  await fails(stripe.tax.transactions.createReversal({ mode: 'full', original_transaction: t2.id, reference: 'order_1' }), 400);
  const rl3 = await stripe.tax.transactions.listLineItems(r3.id);
  for (const l of rl3.data) assertStripeShape(l, 'tax.transaction_line_item');
  // idempotency: a retried create_from_calculation answers the first result, not a refusal
  const c3 = await stripe.tax.calculations.create({
    currency: 'usd', line_items: [{ amount: 100 }], customer_details: { address: CA, address_source: 'billing' },
  });
  const k1 = await stripe.tax.transactions.createFromCalculation({ calculation: c3.id, reference: 'order_3' }, { idempotencyKey: 'txn-3' });
  const k2 = await stripe.tax.transactions.createFromCalculation({ calculation: c3.id, reference: 'order_3' }, { idempotencyKey: 'txn-3' });
  assert.equal(k2.id, k1.id);
  assert.equal(k2.lastResponse.headers['idempotent-replayed'], 'true');
});

test('tax codes: list and retrieve', async () => {
  const codes = await stripe.taxCodes.list({ limit: 100 });
  const ids = codes.data.map((c) => c.id);
  for (const id of ['txcd_00000000', 'txcd_10000000', 'txcd_92010001', 'txcd_99999999']) assert.ok(ids.includes(id), id);
  for (const c of codes.data) assertStripeShape(c, 'tax_code');
  const goods = await stripe.taxCodes.retrieve('txcd_99999999');
  assert.equal(goods.name, 'General - Tangible Goods');
  await fails(stripe.taxCodes.retrieve('txcd_12345678'), 404, 'resource_missing');
  const first = await stripe.taxCodes.list({ limit: 2 });
  assert.equal(first.has_more, true);
});

test('Connect: a connected account has its own settings, registrations and calculations (Canada: GST and QST)', async () => {
  const acct = await stripe.accounts.create({ type: 'standard' });
  const as = { stripeAccount: acct.id };
  assert.equal((await stripe.tax.settings.retrieve({}, as)).status, 'pending');
  // the platform's German registration is not the account's
  const de = await stripe.tax.calculations.create({
    currency: 'eur', line_items: [{ amount: 1000 }], customer_details: { address: DE, address_source: 'billing' },
  }, as);
  assert.equal(de.tax_breakdown[0].taxability_reason, 'not_collecting');
  await stripe.tax.registrations.create({ country: 'CA', country_options: { ca: { type: 'standard' } }, active_from: 'now' }, as);
  const qcReg = await stripe.tax.registrations.create({
    country: 'CA', country_options: { ca: { type: 'province_standard', province_standard: { province: 'QC' } } }, active_from: 'now',
  }, as);
  assert.deepEqual(qcReg.country_options, { ca: { province_standard: { province: 'QC' }, type: 'province_standard' } });
  assertRegistrationShape(qcReg);
  assert.equal((await stripe.tax.registrations.list({}, as)).data.length, 2);
  await fails(stripe.tax.registrations.retrieve(qcReg.id), 404, 'resource_missing');
  const qc = await stripe.tax.calculations.create({
    currency: 'cad', line_items: [{ amount: 10000, reference: 'Skates' }],
    customer_details: { address: { country: 'CA', state: 'QC', postal_code: 'H2X 1Y4' }, address_source: 'shipping' },
    expand: ['line_items.data.tax_breakdown'],
  }, as);
  // GST 5 % = 500, QST 9.975 % = 997.5 → 998
  assert.equal(qc.tax_amount_exclusive, 1498);
  assert.deepEqual(breakdownOf(qc), [
    ['standard_rated', 'CA', null, '5.0', 500, 10000, false],
    ['standard_rated', 'CA', 'QC', '9.975', 998, 10000, false],
  ]);
  assert.deepEqual(qc.tax_breakdown.map((b) => b.tax_rate_details.tax_type), ['gst', 'qst']);
  assert.deepEqual(qc.line_items.data[0].tax_breakdown.map((b) => [b.jurisdiction.level, b.jurisdiction.display_name]),
    [['country', 'Canada'], ['state', 'Quebec']]);
  assertStripeShape({ ...qc, line_items: null }, 'tax.calculation');
  assertStripeShape(qc.line_items.data[0], 'tax.calculation_line_item');
  await fails(stripe.tax.calculations.retrieve(qc.id), 404, 'resource_missing');
  const t = await stripe.tax.transactions.createFromCalculation({ calculation: qc.id, reference: 'order_1' }, as);
  assert.equal(t.reference, 'order_1'); // references are each account's own
  // ended and scheduled registrations do not collect (the platform's NO and AU)
  for (const country of ['NO', 'AU']) {
    const c = await stripe.tax.calculations.create({
      currency: 'eur', line_items: [{ amount: 1000 }], customer_details: { address: { country }, address_source: 'billing' },
    });
    assert.equal(c.tax_breakdown[0].taxability_reason, 'not_collecting', country);
  }
});
