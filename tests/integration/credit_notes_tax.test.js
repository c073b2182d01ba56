'use strict';
// Credit notes of a taxed invoice through stripe-node: a credit note line of type
// invoice_line_item credits its share of each of the line's taxes (the line's tax × credited
// amount / line amount, rounded half away from zero; the share completing a line takes what is
// left of its tax). Exclusive taxes add to the credit note's total (and so to its refund);
// inclusive ones are inside the line's amount. It credits its share of the line's discounts the
// same way (the line's amount is before them; the total after). An invoice with an exclusive and
// an inclusive rate and a discount, paid; a credit note by quantity (refunded: the refund and its balance
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

test('by quantity: a quarter of line A credits a quarter of each tax and of its discount; the refund carries the exclusive tax', async () => {
  const params = { invoice: inv.id, lines: [{ type: 'invoice_line_item', invoice_line_item: lineA.id, quantity: 1 }], refund_amount: 975 };
  const preview = await stripe.creditNotes.preview(params);
  const previewLines = await stripe.creditNotes.listPreviewLineItems(params);
  const cn = await stripe.creditNotes.create(params);
  cnShape(cn);
  cnShape(preview);
  assert.deepEqual(comparable(cn), comparable(preview), 'preview = create');
  assert.deepEqual(previewLines.data.map(({ id, ...l }) => l), comparable(cn).lines);
  const l = cn.lines.data[0];
  // 1000 of 4000: 300 / 4 = 75 exclusive, 600 / 4 = 150 inclusive (inside the discounted 900),
  // 400 / 4 = 100 of the discount
  assert.deepEqual([l.amount, l.amount_excluding_tax, l.quantity, l.unit_amount, l.unit_amount_excluding_tax], [1000, 850, 1, 1000, '850']);
  assert.deepEqual(l.tax_amounts.map((t) => [t.tax_rate, t.inclusive, t.amount]), [[excl.id, false, 75], [incl.id, true, 150]]);
  assert.deepEqual(l.tax_rates.map((t) => t.id), [excl.id, incl.id]);
  const discount = lineA.discount_amounts[0].discount;
  assert.deepEqual(lineA.discount_amounts, [{ amount: 400, discount }]);
  assert.deepEqual([l.discount_amount, l.discount_amounts], [100, [{ amount: 100, discount }]]);
  assert.deepEqual([cn.discount_amount, cn.discount_amounts], [100, [{ amount: 100, discount }]]);
  assert.deepEqual([cn.subtotal, cn.subtotal_excluding_tax, cn.total, cn.total_excluding_tax, cn.amount],
    [1000, 850, 975, 750, 975]);
  assert.deepEqual(cn.tax_amounts.map((t) => [t.tax_rate, t.inclusive, t.amount]), [[excl.id, false, 75], [incl.id, true, 150]]);
  assert.deepEqual([cn.type, cn.post_payment_amount, cn.pre_payment_amount], ['post_payment', 975, 0]);
  // the refund and the ledger
  const re = await stripe.refunds.retrieve(cn.refund);
  assert.deepEqual([re.amount, re.charge, re.status], [975, charge.id, 'succeeded']);
  const bt = await stripe.balanceTransactions.retrieve(re.balance_transaction);
  assert.deepEqual([bt.type, bt.amount], ['refund', -975]);
  assert.equal((await stripe.charges.retrieve(charge.id)).amount_refunded, 975);
  // it renders the same later, and on its own lines
  const again = await stripe.creditNotes.retrieve(cn.id);
  assert.deepEqual(again, cn);
  const lines = await stripe.creditNotes.listLineItems(cn.id);
  assert.deepEqual(lines.data, cn.lines.data);
  assert.equal((await stripe.invoices.retrieve(inv.id)).post_payment_credit_notes_amount, 975);
});

test('by amount; a refund_amount without the tax is refused', async () => {
  const lines = [{ type: 'invoice_line_item', invoice_line_item: lineB.id, amount: 333 }];
  // 90 × 333 / 1000 = 29.97 → 30, 100 × 333 / 1000 = 33.3 → 33 of the discount: the total is 330
  await assert.rejects(stripe.creditNotes.create({ invoice: inv.id, lines, refund_amount: 333 }),
    (e) => e.statusCode === 400 && /330/.test(e.message));
  await assert.rejects(stripe.creditNotes.create({ invoice: inv.id, lines, amount: 333, refund_amount: 333 }),
    (e) => e.statusCode === 400 && e.param === 'amount');
  const params = { invoice: inv.id, lines, amount: 330, refund_amount: 330 };
  const preview = await stripe.creditNotes.preview(params);
  const cn = await stripe.creditNotes.create(params);
  cnShape(cn);
  assert.deepEqual(comparable(cn), comparable(preview));
  assert.deepEqual(taxes(cn.lines.data[0]), [[excl.id, false, 30, 300]]);
  assert.deepEqual([cn.subtotal, cn.discount_amount, cn.total, cn.total_excluding_tax, cn.lines.data[0].unit_amount_excluding_tax], [333, 33, 330, 300, null]);
  assert.equal((await stripe.refunds.retrieve(cn.refund)).amount, 330);
  assert.equal((await stripe.charges.retrieve(charge.id)).amount_refunded, 1305);
});

test('void gives its tax share back; custom lines and amount-only credit notes stay untaxed', async () => {
  // 100 of B: 9 of tax, 10 of the discount; a custom line of 50: no tax. A credit to the
  // customer's balance (voidable)
  const params = {
    invoice: inv.id, credit_amount: 149,
    lines: [{ type: 'invoice_line_item', invoice_line_item: lineB.id, amount: 100 },
      { type: 'custom_line_item', unit_amount: 50, quantity: 1, description: 'Goodwill' }],
  };
  const cn = await stripe.creditNotes.create(params);
  cnShape(cn);
  assert.equal(cn.total, 149);
  assert.deepEqual(taxes(cn.lines.data[0]), [[excl.id, false, 9, 90]]);
  assert.deepEqual([cn.lines.data[0].discount_amount, cn.lines.data[1].discount_amount, cn.lines.data[1].discount_amounts], [10, 0, []]);
  assert.deepEqual([cn.lines.data[1].tax_amounts, cn.lines.data[1].tax_rates], [[], []]);
  assert.equal((await stripe.customers.retrieve(customer.id)).balance, -149);
  const voided = await stripe.creditNotes.voidCreditNote(cn.id);
  cnShape(voided);
  assert.deepEqual([voided.status, voided.total, voided.discount_amount, taxes(voided.lines.data[0])], ['void', 149, 10, [[excl.id, false, 9, 90]]]);
  assert.equal((await stripe.customers.retrieve(customer.id)).balance, 0);
  assert.equal((await stripe.invoices.retrieve(inv.id)).post_payment_credit_notes_amount, 1305);
  // the rest of B (667) completes the line: it takes what is left of its tax, 90 − 30 = 60, and
  // of its discount, 100 − 33 = 67 (the voided credit note's 9 and 10 are back)
  const rest = await stripe.creditNotes.create({
    invoice: inv.id, lines: [{ type: 'invoice_line_item', invoice_line_item: lineB.id, amount: 667 }], out_of_band_amount: 660,
  });
  cnShape(rest);
  assert.deepEqual([rest.total, rest.discount_amount, taxes(rest.lines.data[0])], [660, 67, [[excl.id, false, 60, 600]]]);
  // all of B credited: its discount, tax and charged amount exactly (900 + 90)
  assert.equal(33 + 67, lineB.discount_amounts[0].amount);
  assert.equal(330 + 660, 990);
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
  // paid 4890; credited 975 + 330 + 660 + 10 = 1975: 2915 left. The rest of A: 3000 − 300 of
  // the discount + 225 of tax = 2925
  const lines = [{ type: 'invoice_line_item', invoice_line_item: lineA.id, quantity: 3 }];
  const p = await stripe.creditNotes.preview({ invoice: inv.id, lines, out_of_band_amount: 2925 }).catch((e) => e);
  assert.equal(p.statusCode, 400);
  assert.match(p.message, /2925/);
  assert.match(p.message, /2915/);
  // two more units fit: 2000 − 200 (400 × 2 / 4) + 150 (300 × 2 / 4), inclusive 300
  const cn = await stripe.creditNotes.create({ invoice: inv.id, lines: [{ ...lines[0], quantity: 2 }], refund_amount: 1950 });
  cnShape(cn);
  assert.deepEqual([cn.total, cn.discount_amount, cn.subtotal_excluding_tax, taxes(cn.lines.data[0]).map((t) => t[2])], [1950, 200, 1700, [150, 300]]);
  // the last unit completes A: 100 of the discount, 75 and 150 of tax left (975), but only 965
  // is left to credit
  const last = await stripe.creditNotes.preview({ invoice: inv.id, lines: [{ ...lines[0], quantity: 1 }], out_of_band_amount: 975 }).catch((e) => e);
  assert.equal(last.statusCode, 400);
  assert.match(last.message, /965/);
  assert.equal((await stripe.charges.retrieve(charge.id)).amount_refunded, 3255);
});

test('a discounted invoice credited line by line, whole, refunds exactly what it charged', async () => {
  // 333 off across three lines of 1000, 1000 and 1 (shares that do not divide evenly)
  const coupon = await stripe.coupons.create({ amount_off: 333, currency: 'usd' });
  const draft = await stripe.invoices.create({ customer: customer.id, discounts: [{ coupon: coupon.id }] });
  for (const [amount, description] of [[1000, 'X'], [1000, 'Y'], [7, 'Z']])
    await stripe.invoiceItems.create({ customer: customer.id, invoice: draft.id, amount, currency: 'usd', description });
  await stripe.invoices.finalizeInvoice(draft.id, { auto_advance: false });
  const paid = await stripe.invoices.pay(draft.id);
  assert.equal(paid.amount_paid, 2007 - 333);
  const full = await stripe.invoices.retrieve(paid.id, { expand: ['payments'] });
  const pi = await stripe.paymentIntents.retrieve(full.payments.data[0].payment.payment_intent);
  let credited = 0;
  let discounted = 0;
  for (const line of paid.lines.data) {
    // half of it first, then the rest: the second share completes the line's discount
    const half = Math.floor(line.amount / 2);
    const lineDiscount = line.discount_amounts[0].amount;
    let shareBefore = 0;
    for (const [i, amount] of [half, line.amount - half].entries()) {
      const last = i === 1;
      // its share: the discount × amount / the line's (halves up), the last what is left
      const share = last ? lineDiscount - shareBefore : Math.round(lineDiscount * amount / line.amount);
      shareBefore += share;
      if (amount === 0) continue;
      const lines = [{ type: 'invoice_line_item', invoice_line_item: line.id, amount }];
      const cn = await stripe.creditNotes.create({ invoice: paid.id, lines, refund_amount: amount - share });
      cnShape(cn);
      assert.deepEqual([cn.total, cn.discount_amount, cn.lines.data[0].discount_amounts[0].discount],
        [amount - share, share, line.discount_amounts[0].discount]);
      credited += cn.total;
      discounted += cn.discount_amount;
    }
  }
  assert.deepEqual([credited, discounted], [paid.amount_paid, 333]);
  const ch = await stripe.charges.retrieve(pi.latest_charge);
  assert.deepEqual([ch.amount_refunded, ch.refunded], [paid.amount_paid, true]);
  // nothing is left to credit
  await assert.rejects(stripe.creditNotes.create({ invoice: paid.id, amount: 1, out_of_band_amount: 1 }),
    (e) => e.statusCode === 400);
});

test('tender verify passes: the money in the ledger adds up', async () => {
  assert.match(tender(['verify', '--data', env.dataDir]), /verify: ok/);
});
