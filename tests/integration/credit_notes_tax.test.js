'use strict';
// Credit notes of a taxed invoice through stripe-node: a credit note line of type
// invoice_line_item credits its share of each of the line's taxes (the line's tax × credited
// amount / line amount, rounded half away from zero; the share completing a line takes what is
// left of its tax). Exclusive taxes add to the credit note's total (and so to its refund);
// inclusive ones are inside the line's amount. An invoice with an exclusive and an inclusive
// rate and a discount, paid; a credit note by quantity (refunded: the refund and its balance
// transaction carry the tax), one by amount, a void that gives its tax share back, the caps,
// preview = create, custom lines untaxed; every object checked against Stripe's OpenAPI spec.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { startTender, stopAll, tender } = require('./helpers');
const { billingShape } = require('./billing_helpers');

let env;
let stripe;
let excl; // 10 % exclusive
let incl; // 20 % inclusive
let customer;
let inv; // paid
let lineA; // 4 × 1000, both rates
let lineB; // 1000, the exclusive rate
let charge;

before(async () => {
  env = await startTender({ merchants: 1 });
  stripe = env.stripe();
});
after(stopAll);

function cnShape(cn) {
  billingShape(cn, 'credit_note');
  for (const l of cn.lines.data) billingShape(l, 'credit_note_line_item');
}

function comparable(cn) {
  const { id, lines, pdf, refund, refunds, customer_balance_transaction, created, effective_at, ...rest } = cn;
  return { ...rest, lines: lines.data.map(({ id: lid, ...l }) => l) };
}

const taxes = (x) => x.tax_amounts.map((t) => [t.tax_rate, t.inclusive, t.amount, t.taxable_amount]);

test('setup: an invoice with an exclusive and an inclusive rate and a discount, paid', async () => {
  excl = await stripe.taxRates.create({ display_name: 'Sales tax', percentage: 10, inclusive: false });
  incl = await stripe.taxRates.create({ display_name: 'VAT', percentage: 20, inclusive: true });
  customer = await stripe.customers.create({
    email: 'cntax@example.com', payment_method: 'pm_card_visa',
    invoice_settings: { default_payment_method: 'pm_card_visa' },
  });
  const coupon = await stripe.coupons.create({ percent_off: 10 });
  const draft = await stripe.invoices.create({ customer: customer.id, discounts: [{ coupon: coupon.id }] });
  await stripe.invoiceItems.create({ customer: customer.id, invoice: draft.id, unit_amount: 1000, quantity: 4, currency: 'usd', description: 'A', tax_rates: [excl.id, incl.id] });
  await stripe.invoiceItems.create({ customer: customer.id, invoice: draft.id, amount: 1000, currency: 'usd', description: 'B', tax_rates: [excl.id] });
  await stripe.invoices.finalizeInvoice(draft.id, { auto_advance: false });
  inv = await stripe.invoices.pay(draft.id);
  assert.equal(inv.status, 'paid');
  lineA = inv.lines.data.find((l) => l.description === 'A');
  lineB = inv.lines.data.find((l) => l.description === 'B');
  // A: 4000, 10 % off → 3600, 20 % inside it: 600 (net 3000), 10 % on the net: 300
  // B: 1000, 10 % off → 900, 10 %: 90. Total 5000 − 500 + 300 + 90 = 4890
  assert.equal(lineA.amount, 4000);
  assert.deepEqual(lineA.tax_amounts.map((t) => [t.tax_rate, t.amount]), [[excl.id, 300], [incl.id, 600]]);
  assert.deepEqual(lineB.tax_amounts.map((t) => [t.tax_rate, t.amount]), [[excl.id, 90]]);
  assert.equal(inv.total, 4890);
  assert.equal(inv.amount_paid, 4890);
  const full = await stripe.invoices.retrieve(inv.id, { expand: ['payments'] });
  const pi = await stripe.paymentIntents.retrieve(full.payments.data[0].payment.payment_intent);
  charge = await stripe.charges.retrieve(pi.latest_charge);
  assert.equal(charge.amount, 4890);
});

test('by quantity: a quarter of line A credits a quarter of each tax; the refund carries the exclusive tax', async () => {
  const params = { invoice: inv.id, lines: [{ type: 'invoice_line_item', invoice_line_item: lineA.id, quantity: 1 }], refund_amount: 1075 };
  const preview = await stripe.creditNotes.preview(params);
  const previewLines = await stripe.creditNotes.listPreviewLineItems(params);
  const cn = await stripe.creditNotes.create(params);
  cnShape(cn);
  cnShape(preview);
  assert.deepEqual(comparable(cn), comparable(preview), 'preview = create');
  assert.deepEqual(previewLines.data.map(({ id, ...l }) => l), comparable(cn).lines);
  const l = cn.lines.data[0];
  // 1000 of 4000: 300 / 4 = 75 exclusive, 600 / 4 = 150 inclusive (inside the 1000)
  assert.deepEqual([l.amount, l.amount_excluding_tax, l.quantity, l.unit_amount, l.unit_amount_excluding_tax], [1000, 850, 1, 1000, '850']);
  assert.deepEqual(l.tax_amounts.map((t) => [t.tax_rate, t.inclusive, t.amount]), [[excl.id, false, 75], [incl.id, true, 150]]);
  assert.deepEqual(l.tax_rates.map((t) => t.id), [excl.id, incl.id]);
  assert.deepEqual([cn.subtotal, cn.subtotal_excluding_tax, cn.total, cn.total_excluding_tax, cn.amount],
    [1000, 850, 1075, 850, 1075]);
  assert.deepEqual(cn.tax_amounts.map((t) => [t.tax_rate, t.inclusive, t.amount]), [[excl.id, false, 75], [incl.id, true, 150]]);
  assert.deepEqual([cn.type, cn.post_payment_amount, cn.pre_payment_amount], ['post_payment', 1075, 0]);
  // the refund and the ledger
  const re = await stripe.refunds.retrieve(cn.refund);
  assert.deepEqual([re.amount, re.charge, re.status], [1075, charge.id, 'succeeded']);
  const bt = await stripe.balanceTransactions.retrieve(re.balance_transaction);
  assert.deepEqual([bt.type, bt.amount], ['refund', -1075]);
  assert.equal((await stripe.charges.retrieve(charge.id)).amount_refunded, 1075);
  // it renders the same later, and on its own lines
  const again = await stripe.creditNotes.retrieve(cn.id);
  assert.deepEqual(again, cn);
  const lines = await stripe.creditNotes.listLineItems(cn.id);
  assert.deepEqual(lines.data, cn.lines.data);
  assert.equal((await stripe.invoices.retrieve(inv.id)).post_payment_credit_notes_amount, 1075);
});

test('by amount; a refund_amount without the tax is refused', async () => {
  const lines = [{ type: 'invoice_line_item', invoice_line_item: lineB.id, amount: 333 }];
  // 90 × 333 / 1000 = 29.97 → 30: the total is 363
  await assert.rejects(stripe.creditNotes.create({ invoice: inv.id, lines, refund_amount: 333 }),
    (e) => e.statusCode === 400 && /363/.test(e.message));
  await assert.rejects(stripe.creditNotes.create({ invoice: inv.id, lines, amount: 333, refund_amount: 333 }),
    (e) => e.statusCode === 400 && e.param === 'amount');
  const params = { invoice: inv.id, lines, amount: 363, refund_amount: 363 };
  const preview = await stripe.creditNotes.preview(params);
  const cn = await stripe.creditNotes.create(params);
  cnShape(cn);
  assert.deepEqual(comparable(cn), comparable(preview));
  assert.deepEqual(taxes(cn.lines.data[0]), [[excl.id, false, 30, 300]]);
  assert.deepEqual([cn.subtotal, cn.total, cn.total_excluding_tax, cn.lines.data[0].unit_amount_excluding_tax], [333, 363, 333, null]);
  assert.equal((await stripe.refunds.retrieve(cn.refund)).amount, 363);
  assert.equal((await stripe.charges.retrieve(charge.id)).amount_refunded, 1438);
});

test('void gives its tax share back; custom lines and amount-only credit notes stay untaxed', async () => {
  // 100 of B: 9; a custom line of 50: no tax. A credit to the customer's balance (voidable)
  const params = {
    invoice: inv.id, credit_amount: 159,
    lines: [{ type: 'invoice_line_item', invoice_line_item: lineB.id, amount: 100 },
      { type: 'custom_line_item', unit_amount: 50, quantity: 1, description: 'Goodwill' }],
  };
  const cn = await stripe.creditNotes.create(params);
  cnShape(cn);
  assert.equal(cn.total, 159);
  assert.deepEqual(taxes(cn.lines.data[0]), [[excl.id, false, 9, 90]]);
  assert.deepEqual([cn.lines.data[1].tax_amounts, cn.lines.data[1].tax_rates], [[], []]);
  assert.equal((await stripe.customers.retrieve(customer.id)).balance, -159);
  const voided = await stripe.creditNotes.voidCreditNote(cn.id);
  cnShape(voided);
  assert.deepEqual([voided.status, voided.total, taxes(voided.lines.data[0])], ['void', 159, [[excl.id, false, 9, 90]]]);
  assert.equal((await stripe.customers.retrieve(customer.id)).balance, 0);
  assert.equal((await stripe.invoices.retrieve(inv.id)).post_payment_credit_notes_amount, 1438);
  // the rest of B (667) completes the line: it takes what is left of its tax, 90 − 30 = 60
  // (the voided credit note's 9 is back: with it counted, 51 would be left)
  const rest = await stripe.creditNotes.create({
    invoice: inv.id, lines: [{ type: 'invoice_line_item', invoice_line_item: lineB.id, amount: 667 }], out_of_band_amount: 727,
  });
  cnShape(rest);
  assert.deepEqual([rest.total, taxes(rest.lines.data[0])], [727, [[excl.id, false, 60, 600]]]);
  // nothing is left of B
  await assert.rejects(stripe.creditNotes.create({
    invoice: inv.id, lines: [{ type: 'invoice_line_item', invoice_line_item: lineB.id, amount: 1 }], out_of_band_amount: 1,
  }), (e) => e.statusCode === 400 && e.param === 'lines');
  // by amount alone: untaxed
  const plain = await stripe.creditNotes.create({ invoice: inv.id, amount: 10, out_of_band_amount: 10 });
  cnShape(plain);
  assert.deepEqual([plain.total, plain.subtotal, plain.total_excluding_tax, plain.tax_amounts], [10, 10, 10, []]);
});

test('the remainder cap: the rest of line A (its tax completing the line) is more than is left to credit', async () => {
  // paid 4890; credited 1075 + 363 + 727 + 10 = 2175: 2715 left. The rest of A: 3000 + 225
  const lines = [{ type: 'invoice_line_item', invoice_line_item: lineA.id, quantity: 3 }];
  const p = await stripe.creditNotes.preview({ invoice: inv.id, lines, out_of_band_amount: 3225 }).catch((e) => e);
  assert.equal(p.statusCode, 400);
  assert.match(p.message, /3225/);
  assert.match(p.message, /2715/);
  // two more units fit: 2000 + 150 (300 × 2 / 4), inclusive 300
  const cn = await stripe.creditNotes.create({ invoice: inv.id, lines: [{ ...lines[0], quantity: 2 }], refund_amount: 2150 });
  cnShape(cn);
  assert.deepEqual([cn.total, cn.subtotal_excluding_tax, taxes(cn.lines.data[0]).map((t) => t[2])], [2150, 1700, [150, 300]]);
  // the last unit completes A: 75 and 150 left (300 − 75 − 150, 600 − 150 − 300), but only 565
  // is left to credit
  const last = await stripe.creditNotes.preview({ invoice: inv.id, lines: [{ ...lines[0], quantity: 1 }], out_of_band_amount: 1075 }).catch((e) => e);
  assert.equal(last.statusCode, 400);
  assert.equal((await stripe.charges.retrieve(charge.id)).amount_refunded, 3588);
});

test('tender verify passes: the money in the ledger adds up', async () => {
  assert.match(tender(['verify', '--data', env.dataDir]), /verify: ok/);
});
