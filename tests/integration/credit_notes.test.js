'use strict';
// Credit notes through stripe-node (stripe.creditNotes.*): a pre-payment credit note lowers what
// an open invoice asks for (amount_due, amount_remaining, its PaymentIntent's amount), and one
// that leaves nothing to pay marks the invoice paid; a post-payment credit note of a paid invoice
// splits its total among a refund (a real Refund through the refunds path), a customer balance
// credit (a `credit_note` customer balance transaction) and an out-of-band amount; over-crediting
// is refused and changes nothing; void, update, lines, list filters, preview (equal to create,
// and writing nothing), another merchant's 404, and an idempotent replay of a create. Every
// object is checked against Stripe's OpenAPI spec, and `tender verify` passes at the end.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { startTender, stopAll, tender } = require('./helpers');
const { billingShape } = require('./billing_helpers');

let env;
let stripe;

before(async () => {
  env = await startTender({ merchants: 2 });
  stripe = env.stripe();
});
after(stopAll);

const shape = (obj, schema) => billingShape(obj, schema);

// A credit note as the spec knows it (2023-08-16): the newer fields it does not list are
// extras, which the validator accepts.
function cnShape(cn) {
  shape(cn, 'credit_note');
  for (const l of cn.lines.data) shape(l, 'credit_note_line_item');
}

async function customerWithCard(pm = 'pm_card_visa') {
  return stripe.customers.create({
    email: 'jenny@example.com', payment_method: pm, invoice_settings: { default_payment_method: pm },
  });
}

// An open invoice of two items (3 × 500 and 500): its lines, finalized, not yet charged.
async function openInvoice(customer) {
  await stripe.invoiceItems.create({ customer: customer.id, currency: 'usd', unit_amount: 500, quantity: 3, description: 'Widgets' });
  await stripe.invoiceItems.create({ customer: customer.id, currency: 'usd', amount: 500, description: 'Setup' });
  const draft = await stripe.invoices.create({ customer: customer.id, pending_invoice_items_behavior: 'include' });
  const inv = await stripe.invoices.finalizeInvoice(draft.id, { auto_advance: false });
  assert.equal(inv.status, 'open');
  assert.equal(inv.amount_due, 2000);
  return inv;
}

function lineOf(inv, desc) {
  const l = inv.lines.data.find((x) => x.description === desc);
  assert.ok(l, `line ${desc}`);
  return l;
}

async function paidInvoice(customer) {
  const inv = await openInvoice(customer);
  const paid = await stripe.invoices.pay(inv.id);
  assert.equal(paid.status, 'paid');
  assert.equal(paid.amount_paid, 2000);
  return paid;
}

async function chargeOf(inv) {
  const full = await stripe.invoices.retrieve(inv.id, { expand: ['payments'] });
  const pi = await stripe.paymentIntents.retrieve(full.payments.data[0].payment.payment_intent);
  return { pi, charge: await stripe.charges.retrieve(pi.latest_charge) };
}

async function eventsOf(id) {
  return (await stripe.events.list({ limit: 100 })).data.filter((e) => e.data.object.id === id).map((e) => e.type).reverse();
}

// what a preview and a create agree on: everything but the ids made and what the write made
function comparable(cn) {
  const { id, lines, pdf, refund, refunds, customer_balance_transaction, ...rest } = cn;
  return { ...rest, lines: lines.data.map(({ id: lid, ...l }) => l) };
}

test('pre-payment: lowers amount_due and amount_remaining; the payment then charges the lower amount', async () => {
  const customer = await customerWithCard();
  const inv = await openInvoice(customer);
  const widgets = lineOf(inv, 'Widgets');
  const params = {
    invoice: inv.id,
    lines: [{ type: 'invoice_line_item', invoice_line_item: widgets.id, quantity: 1 },
      { type: 'custom_line_item', unit_amount: 100, quantity: 2, description: 'Goodwill' }],
    reason: 'order_change',
    memo: 'one widget short',
  };
  const preview = await stripe.creditNotes.preview(params);
  cnShape(preview);
  assert.deepEqual([preview.amount, preview.total, preview.subtotal, preview.pre_payment_amount, preview.post_payment_amount, preview.type], [700, 700, 700, 700, 0, 'pre_payment']);
  const pl = await stripe.creditNotes.listPreviewLineItems(params);
  assert.deepEqual(pl.data.map((l) => [l.type, l.amount, l.quantity, l.unit_amount]), [['invoice_line_item', 500, 1, 500], ['custom_line_item', 200, 2, 100]]);
  // the preview wrote nothing
  assert.equal((await stripe.creditNotes.list({ invoice: inv.id })).data.length, 0);
  const still = await stripe.invoices.retrieve(inv.id);
  assert.deepEqual([still.amount_due, still.amount_remaining, still.pre_payment_credit_notes_amount], [2000, 2000, 0]);

  const cn = await stripe.creditNotes.create(params);
  cnShape(cn);
  assert.deepEqual(comparable(cn), { ...comparable(preview), created: cn.created, effective_at: cn.effective_at });
  assert.match(cn.id, /^cn_/);
  assert.equal(cn.number, `${inv.number}-CN-01`);
  assert.deepEqual([cn.status, cn.type, cn.amount, cn.invoice, cn.customer, cn.currency, cn.memo, cn.reason, cn.refund, cn.customer_balance_transaction, cn.out_of_band_amount, cn.voided_at],
    ['issued', 'pre_payment', 700, inv.id, customer.id, 'usd', 'one widget short', 'order_change', null, null, null, null]);
  assert.equal(cn.lines.data[0].invoice_line_item, widgets.id);
  assert.equal(typeof cn.pdf, 'string');

  const after1 = await stripe.invoices.retrieve(inv.id);
  shape(after1, 'invoice');
  assert.deepEqual([after1.status, after1.total, after1.amount_due, after1.amount_remaining, after1.amount_paid, after1.pre_payment_credit_notes_amount, after1.post_payment_credit_notes_amount],
    ['open', 2000, 1300, 1300, 0, 700, 0]);
  assert.deepEqual(await eventsOf(cn.id), ['credit_note.created']);
  assert.ok((await eventsOf(inv.id)).includes('invoice.updated'));

  // the payment charges what is left
  const paid = await stripe.invoices.pay(inv.id);
  assert.deepEqual([paid.status, paid.amount_paid, paid.amount_remaining], ['paid', 1300, 0]);
  const { pi, charge } = await chargeOf(paid);
  assert.deepEqual([pi.amount, charge.amount], [1300, 1300]);

  // retrieve and the lines endpoint give the same
  assert.deepEqual(await stripe.creditNotes.retrieve(cn.id), cn);
  const lines = await stripe.creditNotes.listLineItems(cn.id, { limit: 1 });
  assert.equal(lines.data.length, 1);
  assert.equal(lines.has_more, true);
  assert.deepEqual(lines.data[0], cn.lines.data[0]);
  const rest = await stripe.creditNotes.listLineItems(cn.id, { starting_after: lines.data[0].id });
  assert.deepEqual(rest.data, [cn.lines.data[1]]);
});

test('pre-payment: an unpaid PaymentIntent (a declined attempt) takes the lower amount', async () => {
  const customer = await customerWithCard('pm_card_chargeDeclined');
  const inv = await openInvoice(customer);
  await assert.rejects(stripe.invoices.pay(inv.id), (e) => e.type === 'StripeCardError');
  const { pi: before } = await (async () => {
    const full = await stripe.invoices.retrieve(inv.id, { expand: ['payments'] });
    return { pi: await stripe.paymentIntents.retrieve(full.payments.data[0].payment.payment_intent) };
  })();
  assert.deepEqual([before.status, before.amount], ['requires_payment_method', 2000]);
  await stripe.creditNotes.create({ invoice: inv.id, amount: 800 });
  const pi = await stripe.paymentIntents.retrieve(before.id);
  assert.deepEqual([pi.status, pi.amount], ['requires_payment_method', 1200]);
  const paid = await stripe.invoices.pay(inv.id, { payment_method: 'pm_card_visa' });
  assert.deepEqual([paid.status, paid.amount_paid], ['paid', 1200]);
  const { charge } = await chargeOf(paid);
  assert.equal(charge.amount, 1200);
});

test('pre-payment for the whole amount remaining: the invoice is paid, without a payment', async () => {
  const customer = await customerWithCard();
  const inv = await openInvoice(customer);
  const cn = await stripe.creditNotes.create({ invoice: inv.id, amount: 2000, reason: 'duplicate' });
  cnShape(cn);
  assert.deepEqual([cn.type, cn.pre_payment_amount, cn.post_payment_amount], ['pre_payment', 2000, 0]);
  const after1 = await stripe.invoices.retrieve(inv.id, { expand: ['payments'] });
  shape(after1, 'invoice');
  assert.deepEqual([after1.status, after1.amount_due, after1.amount_paid, after1.amount_remaining, after1.pre_payment_credit_notes_amount],
    ['paid', 0, 0, 0, 2000]);
  assert.equal(after1.payments.data.length, 0, 'nothing was charged');
  assert.ok(after1.status_transitions.paid_at);
  const types = await eventsOf(inv.id);
  assert.ok(types.includes('invoice.paid'));
  // a pre-payment credit note of a paid invoice can no longer be voided
  await assert.rejects(stripe.creditNotes.voidCreditNote(cn.id), (e) => e.statusCode === 400);
});

test('refused: a draft or void invoice, more than remains, no amount, a line of another invoice; nothing changes', async () => {
  const customer = await customerWithCard();
  await stripe.invoiceItems.create({ customer: customer.id, currency: 'usd', amount: 900 });
  const draft = await stripe.invoices.create({ customer: customer.id, pending_invoice_items_behavior: 'include' });
  await assert.rejects(stripe.creditNotes.create({ invoice: draft.id, amount: 100 }),
    (e) => e.statusCode === 400 && e.type === 'StripeInvalidRequestError' && e.param === 'invoice');
  const inv = await openInvoice(customer);
  const other = await openInvoice(customer);
  // more than the amount remaining (nothing was paid)
  await assert.rejects(stripe.creditNotes.create({ invoice: inv.id, amount: 2001 }), (e) => e.statusCode === 400 && e.param === 'amount');
  await assert.rejects(stripe.creditNotes.preview({ invoice: inv.id, amount: 2001 }), (e) => e.statusCode === 400);
  await assert.rejects(stripe.creditNotes.create({ invoice: inv.id }), (e) => e.statusCode === 400);
  // a line of another invoice; a quantity beyond the line's; lines that do not add up to amount
  await assert.rejects(stripe.creditNotes.create({ invoice: inv.id, lines: [{ type: 'invoice_line_item', invoice_line_item: lineOf(other, 'Setup').id, amount: 100 }] }),
    (e) => e.statusCode === 400 && e.param === 'lines');
  await assert.rejects(stripe.creditNotes.create({ invoice: inv.id, lines: [{ type: 'invoice_line_item', invoice_line_item: lineOf(inv, 'Widgets').id, quantity: 4 }] }),
    (e) => e.statusCode === 400);
  await assert.rejects(stripe.creditNotes.create({ invoice: inv.id, amount: 10, lines: [{ type: 'custom_line_item', unit_amount: 20 }] }),
    (e) => e.statusCode === 400 && e.param === 'amount');
  // refund/credit amounts on an invoice nothing was paid on
  await assert.rejects(stripe.creditNotes.create({ invoice: inv.id, amount: 100, credit_amount: 100 }), (e) => e.statusCode === 400);
  // a line credited by amount cannot be credited beyond its amount across credit notes
  const setup = lineOf(inv, 'Setup');
  await stripe.creditNotes.create({ invoice: inv.id, lines: [{ type: 'invoice_line_item', invoice_line_item: setup.id, amount: 400 }] });
  await assert.rejects(stripe.creditNotes.create({ invoice: inv.id, lines: [{ type: 'invoice_line_item', invoice_line_item: setup.id, amount: 101 }] }),
    (e) => e.statusCode === 400 && e.param === 'lines');
  const now = await stripe.invoices.retrieve(inv.id);
  assert.deepEqual([now.amount_due, now.pre_payment_credit_notes_amount], [1600, 400]);
  assert.equal((await stripe.creditNotes.list({ invoice: inv.id })).data.length, 1);
  // a void invoice
  const voided = await stripe.invoices.voidInvoice(other.id);
  assert.equal(voided.status, 'void');
  await assert.rejects(stripe.creditNotes.create({ invoice: other.id, amount: 100 }), (e) => e.statusCode === 400);
  await assert.rejects(stripe.creditNotes.create({ invoice: 'in_nope', amount: 100 }), (e) => e.statusCode === 404);
});

test('post-payment: refund, customer balance credit and out of band add up to the total; the money moves', async () => {
  const customer = await customerWithCard();
  const inv = await paidInvoice(customer);
  const { charge } = await chargeOf(inv);
  const bal0 = await stripe.balance.retrieve();
  // the three must add up
  await assert.rejects(stripe.creditNotes.create({ invoice: inv.id, amount: 1000, refund_amount: 500, credit_amount: 100 }),
    (e) => e.statusCode === 400 && e.param === 'refund_amount');
  await assert.rejects(stripe.creditNotes.create({ invoice: inv.id, amount: 1000 }), (e) => e.statusCode === 400);
  const params = { invoice: inv.id, amount: 1800, refund_amount: 1000, credit_amount: 600, out_of_band_amount: 200, reason: 'product_unsatisfactory' };
  const preview = await stripe.creditNotes.preview(params);
  assert.equal((await stripe.refunds.list({ charge: charge.id })).data.length, 0, 'the preview refunds nothing');
  const cn = await stripe.creditNotes.create(params);
  cnShape(cn);
  assert.deepEqual(comparable(cn), { ...comparable(preview), created: cn.created, effective_at: cn.effective_at });
  assert.deepEqual([cn.type, cn.amount, cn.pre_payment_amount, cn.post_payment_amount, cn.out_of_band_amount, cn.lines.data.length],
    ['post_payment', 1800, 0, 1800, 200, 0]);
  // the refund: a real one of the invoice's charge
  assert.match(cn.refund, /^re_/);
  const re = await stripe.refunds.retrieve(cn.refund);
  shape(re, 'refund');
  assert.deepEqual([re.amount, re.charge, re.status, re.reason], [1000, charge.id, 'succeeded', 'requested_by_customer']);
  assert.equal((await stripe.charges.retrieve(charge.id)).amount_refunded, 1000);
  const bal1 = await stripe.balance.retrieve();
  const avail = (b) => b.available.find((x) => x.currency === 'usd')?.amount ?? 0;
  assert.equal(avail(bal1), avail(bal0) - 1000, 'the refund left the available balance');
  const bt = await stripe.balanceTransactions.retrieve(re.balance_transaction);
  assert.deepEqual([bt.type, bt.amount, bt.source], ['refund', -1000, re.id]);
  // the credit: a credit_note customer balance transaction
  assert.match(cn.customer_balance_transaction, /^cbtxn_/);
  const cbt = await stripe.customers.retrieveBalanceTransaction(customer.id, cn.customer_balance_transaction);
  shape(cbt, 'customer_balance_transaction');
  assert.deepEqual([cbt.type, cbt.amount, cbt.credit_note, cbt.invoice, cbt.ending_balance], ['credit_note', -600, cn.id, inv.id, -600]);
  assert.equal((await stripe.customers.retrieve(customer.id)).balance, -600);
  const after1 = await stripe.invoices.retrieve(inv.id);
  assert.deepEqual([after1.status, after1.amount_paid, after1.post_payment_credit_notes_amount, after1.pre_payment_credit_notes_amount], ['paid', 2000, 1800, 0]);
  assert.ok((await eventsOf(cn.id)).includes('credit_note.created'));
  const expanded = await stripe.creditNotes.retrieve(cn.id, { expand: ['refund', 'invoice', 'customer'] });
  assert.deepEqual([expanded.refund.id, expanded.refund.object, expanded.invoice.id, expanded.invoice.post_payment_credit_notes_amount, expanded.customer.id, expanded.customer.balance],
    [re.id, 'refund', inv.id, 1800, customer.id, -600]);
  const listed = await stripe.creditNotes.list({ invoice: inv.id, expand: ['data.refund'] });
  assert.equal(listed.data[0].refund.id, re.id);
  const refundEvents = (await stripe.events.list({ limit: 100 })).data.filter((e) => e.data.object.id === re.id).map((e) => e.type);
  assert.deepEqual(refundEvents, ['refund.created']);

  // over-crediting: only 200 is left; 201 is refused and changes nothing
  await assert.rejects(stripe.creditNotes.create({ invoice: inv.id, amount: 201, out_of_band_amount: 201 }),
    (e) => e.statusCode === 400 && e.param === 'amount');
  assert.equal((await stripe.charges.retrieve(charge.id)).amount_refunded, 1000);
  await stripe.creditNotes.create({ invoice: inv.id, amount: 200, refund_amount: 200 });
  await assert.rejects(stripe.creditNotes.create({ invoice: inv.id, amount: 1, out_of_band_amount: 1 }), (e) => e.statusCode === 400);
  assert.equal((await stripe.charges.retrieve(charge.id)).amount_refunded, 1200);
  assert.equal((await stripe.customers.retrieve(customer.id)).balance, -600);
  const cns = await stripe.creditNotes.list({ invoice: inv.id });
  assert.equal(cns.data.length, 2);
  assert.equal(cns.data[0].number, `${inv.number}-CN-02`);
  assert.equal((await stripe.invoices.retrieve(inv.id)).post_payment_credit_notes_amount, 2000);

  // void: one with a refund cannot be
  await assert.rejects(stripe.creditNotes.voidCreditNote(cn.id), (e) => e.statusCode === 400);
});

test('post-payment: a refund made through the Refunds API counts against what can be credited', async () => {
  const customer = await customerWithCard();
  const inv = await paidInvoice(customer);
  const { pi, charge } = await chargeOf(inv);
  await stripe.refunds.create({ payment_intent: pi.id, amount: 500 });
  await assert.rejects(stripe.creditNotes.create({ invoice: inv.id, amount: 1501, credit_amount: 1501 }),
    (e) => e.statusCode === 400 && e.param === 'amount');
  const cn = await stripe.creditNotes.create({ invoice: inv.id, amount: 1500, refund_amount: 1500, out_of_band_amount: 0 });
  assert.deepEqual([cn.post_payment_amount, cn.out_of_band_amount], [1500, 0]);
  await assert.rejects(stripe.creditNotes.create({ invoice: inv.id, amount: 1, credit_amount: 1 }), (e) => e.statusCode === 400);
  assert.equal((await stripe.charges.retrieve(charge.id)).amount_refunded, 2000);
  assert.equal((await stripe.invoices.retrieve(inv.id)).post_payment_credit_notes_amount, 1500);
});

test('refund links an existing refund of the invoice\'s charge (none is made); effective_at replaces the date of issue', async () => {
  const customer = await customerWithCard();
  const inv = await paidInvoice(customer);
  const { pi, charge } = await chargeOf(inv);
  const rf = await stripe.refunds.create({ payment_intent: pi.id, amount: 600 });
  const other = await paidInvoice(customer);
  const { pi: otherPi } = await chargeOf(other);
  const foreign = await stripe.refunds.create({ payment_intent: otherPi.id, amount: 100 });
  const refused = [
    [{ refund: 're_nope' }, 404, 'refund'],
    [{ refund: foreign.id }, 400, 'refund'],
    [{ refund: rf.id, refund_amount: 500 }, 400, 'refund_amount'],
  ];
  for (const [extra, status, param] of refused) {
    await assert.rejects(stripe.creditNotes.create({ invoice: inv.id, amount: 600, ...extra }),
      (e) => e.statusCode === status && e.param === param, JSON.stringify(extra));
  }
  const eff = Date.UTC(2025, 0, 15) / 1000;
  const params = { invoice: inv.id, amount: 1000, refund: rf.id, credit_amount: 400, effective_at: eff };
  const preview = await stripe.creditNotes.preview(params);
  assert.deepEqual([preview.refund, preview.effective_at], [rf.id, eff]);
  const cn = await stripe.creditNotes.create(params);
  cnShape(cn);
  assert.deepEqual([cn.refund, cn.post_payment_amount, cn.effective_at], [rf.id, 1000, eff]);
  assert.ok(cn.created > eff);
  assert.deepEqual(cn.refunds.map((x) => [x.refund, x.amount_refunded]), [[rf.id, 600]]);
  // nothing more refunded: the charge's refunds are the one linked
  const ch = await stripe.charges.retrieve(charge.id, { expand: ['refunds'] });
  assert.deepEqual([ch.amount_refunded, ch.refunds.data.length], [600, 1]);
  // the rest of the paid amount can still be credited; the refund cannot be linked twice
  await assert.rejects(stripe.creditNotes.create({ invoice: inv.id, amount: 100, refund: rf.id }),
    (e) => e.statusCode === 400 && e.param === 'refund');
  const rest = await stripe.creditNotes.create({ invoice: inv.id, amount: 1000, credit_amount: 1000 });
  assert.equal(rest.post_payment_amount, 1000);
  await assert.rejects(stripe.creditNotes.create({ invoice: inv.id, amount: 1, credit_amount: 1 }), (e) => e.statusCode === 400);
});

test('refunds[] links several existing refunds, or parts of them (none is made); email_type taken; preview and its lines the same', async () => {
  const customer = await customerWithCard();
  const inv = await paidInvoice(customer);
  const { pi, charge } = await chargeOf(inv);
  const rfA = await stripe.refunds.create({ payment_intent: pi.id, amount: 600 });
  const rfB = await stripe.refunds.create({ payment_intent: pi.id, amount: 400 });
  const other = await paidInvoice(customer);
  const foreign = await stripe.refunds.create({ payment_intent: (await chargeOf(other)).pi.id, amount: 100 });
  const refused = [
    [{ refunds: [{ refund: foreign.id }] }, 400, 'refunds[0][refund]'],
    [{ refunds: [{ refund: 're_nope' }] }, 404, 'refunds[0][refund]'],
    [{ refunds: [{ refund: rfA.id, amount_refunded: 601 }] }, 400, 'refunds'],
    [{ refunds: [{ refund: rfA.id }, { refund: rfA.id }] }, 400, 'refunds[1][refund]'],
    [{ refunds: [{ refund: rfA.id }], refund: rfB.id }, 400, 'refunds'],
    [{ refunds: [{ refund: rfA.id }], refund_amount: 500 }, 400, 'refund_amount'],
    [{ refunds: [{ refund: rfA.id }], email_type: 'sms' }, 400, 'email_type'],
  ];
  for (const [extra, status, param] of refused) {
    await assert.rejects(stripe.creditNotes.create({ invoice: inv.id, amount: 600, ...extra }),
      (e) => e.statusCode === status && e.param === param, JSON.stringify(extra));
  }
  // 250 of A and all of B: 650, the refund_amount
  const params = { invoice: inv.id, amount: 650, refunds: [{ refund: rfA.id, amount_refunded: 250 }, { refund: rfB.id }], email_type: 'none' };
  const preview = await stripe.creditNotes.preview(params);
  const links = (cn) => cn.refunds.map((x) => [x.refund, x.amount_refunded, x.type]);
  assert.deepEqual(links(preview), [[rfA.id, 250, 'refund'], [rfB.id, 400, 'refund']]);
  assert.equal((await stripe.creditNotes.listPreviewLineItems(params)).object, 'list');
  const cn = await stripe.creditNotes.create(params);
  cnShape(cn);
  assert.deepEqual([cn.refund, cn.post_payment_amount, links(cn)], [rfA.id, 650, links(preview)]);
  assert.deepEqual(links(await stripe.creditNotes.retrieve(cn.id)), links(preview));
  const ch = await stripe.charges.retrieve(charge.id, { expand: ['refunds'] });
  assert.deepEqual([ch.amount_refunded, ch.refunds.data.length], [1000, 2], 'nothing more refunded');
  // the rest of A by default; then A and B are linked in full
  const rest = await stripe.creditNotes.create({ invoice: inv.id, amount: 350, refunds: [{ refund: rfA.id }], email_type: 'credit_note' });
  assert.deepEqual(links(rest), [[rfA.id, 350, 'refund']]);
  for (const extra of [{ refunds: [{ refund: rfA.id }] }, { refund: rfB.id }]) {
    await assert.rejects(stripe.creditNotes.create({ invoice: inv.id, amount: 100, ...extra }),
      (e) => e.statusCode === 400, JSON.stringify(extra));
  }
  assert.equal((await stripe.invoices.retrieve(inv.id)).post_payment_credit_notes_amount, 1000);
  await assert.rejects(stripe.creditNotes.voidCreditNote(cn.id), (e) => e.statusCode === 400);
});

test('shipping_cost[shipping_rate]: the invoice\'s shipping credited with the lines, once', async () => {
  const customer = await customerWithCard();
  const rate = await stripe.shippingRates.create({ display_name: 'Ground', type: 'fixed_amount', fixed_amount: { amount: 700, currency: 'usd' } });
  await stripe.invoiceItems.create({ customer: customer.id, currency: 'usd', amount: 2000, description: 'Goods' });
  const draft = await stripe.invoices.create({ customer: customer.id, pending_invoice_items_behavior: 'include', shipping_cost: { shipping_rate: rate.id } });
  const inv = await stripe.invoices.pay((await stripe.invoices.finalizeInvoice(draft.id, { auto_advance: false })).id);
  assert.deepEqual([inv.status, inv.amount_paid], ['paid', 2700]);
  const other = await stripe.shippingRates.create({ display_name: 'Air', type: 'fixed_amount', fixed_amount: { amount: 700, currency: 'usd' } });
  await assert.rejects(stripe.creditNotes.create({ invoice: inv.id, shipping_cost: { shipping_rate: other.id }, credit_amount: 700 }),
    (e) => e.statusCode === 400 && e.param === 'shipping_cost[shipping_rate]');
  const goods = lineOf(inv, 'Goods');
  const params = {
    invoice: inv.id, shipping_cost: { shipping_rate: rate.id },
    lines: [{ type: 'invoice_line_item', invoice_line_item: goods.id, amount: 500 }], refund_amount: 1200,
  };
  const preview = await stripe.creditNotes.preview(params);
  assert.deepEqual([preview.total, preview.amount_shipping, preview.subtotal], [1200, 700, 500]);
  const cn = await stripe.creditNotes.create(params);
  cnShape(cn);
  assert.deepEqual([cn.total, cn.amount, cn.amount_shipping, cn.subtotal, cn.post_payment_amount], [1200, 1200, 700, 500, 1200]);
  assert.deepEqual(cn.shipping_cost, { amount_subtotal: 700, amount_tax: 0, amount_total: 700, shipping_rate: rate.id, taxes: [] });
  assert.deepEqual((await stripe.creditNotes.retrieve(cn.id)).shipping_cost, cn.shipping_cost);
  // once: a second credit of the shipping is refused
  await assert.rejects(stripe.creditNotes.create({ invoice: inv.id, shipping_cost: { shipping_rate: rate.id }, credit_amount: 700 }),
    (e) => e.statusCode === 400 && e.param === 'shipping_cost');
  // an invoice without shipping has none to credit
  const plain = await paidInvoice(customer);
  await assert.rejects(stripe.creditNotes.create({ invoice: plain.id, shipping_cost: { shipping_rate: rate.id }, credit_amount: 700 }),
    (e) => e.statusCode === 400);
});

test('void: a credit-only post-payment credit note gives the credit back; a pre-payment one raises amount_due again', async () => {
  const customer = await customerWithCard();
  const inv = await paidInvoice(customer);
  const cn = await stripe.creditNotes.create({ invoice: inv.id, amount: 500, credit_amount: 500 });
  assert.equal((await stripe.customers.retrieve(customer.id)).balance, -500);
  const v = await stripe.creditNotes.voidCreditNote(cn.id);
  cnShape(v);
  assert.equal(v.status, 'void');
  assert.ok(v.voided_at);
  assert.equal((await stripe.customers.retrieve(customer.id)).balance, 0);
  const txns = (await stripe.customers.listBalanceTransactions(customer.id)).data.reverse();
  assert.deepEqual(txns.map((t) => [t.type, t.amount, t.credit_note]), [['credit_note', -500, cn.id], ['credit_note', 500, cn.id]]);
  assert.equal((await stripe.invoices.retrieve(inv.id)).post_payment_credit_notes_amount, 0);
  await assert.rejects(stripe.creditNotes.voidCreditNote(cn.id), (e) => e.statusCode === 400);
  assert.deepEqual(await eventsOf(cn.id), ['credit_note.created', 'credit_note.voided']);
  // the whole paid amount can be credited again
  await stripe.creditNotes.create({ invoice: inv.id, amount: 2000, out_of_band_amount: 2000 });

  const open = await openInvoice(customer);
  const pre = await stripe.creditNotes.create({ invoice: open.id, amount: 300 });
  assert.equal((await stripe.invoices.retrieve(open.id)).amount_due, 1700);
  await stripe.creditNotes.voidCreditNote(pre.id);
  const back = await stripe.invoices.retrieve(open.id);
  assert.deepEqual([back.amount_due, back.amount_remaining, back.pre_payment_credit_notes_amount], [2000, 2000, 0]);
});

test('update (memo, metadata) and list filters', async () => {
  const a = await customerWithCard();
  const b = await customerWithCard();
  const ia = await openInvoice(a);
  const ib = await openInvoice(b);
  const ca = await stripe.creditNotes.create({ invoice: ia.id, amount: 100, metadata: { k: 'v' } });
  const cb = await stripe.creditNotes.create({ invoice: ib.id, amount: 200 });
  const up = await stripe.creditNotes.update(ca.id, { memo: 'thanks', metadata: { k: 'w', n: '1' } });
  cnShape(up);
  assert.deepEqual([up.memo, up.metadata], ['thanks', { k: 'w', n: '1' }]);
  const ev = (await stripe.events.list({ type: 'credit_note.updated' })).data[0];
  assert.equal(ev.data.object.id, ca.id);
  assert.deepEqual(ev.data.previous_attributes, { memo: null, metadata: { k: 'v' } });
  assert.deepEqual((await stripe.creditNotes.list({ customer: a.id })).data.map((c) => c.id), [ca.id]);
  assert.deepEqual((await stripe.creditNotes.list({ invoice: ib.id })).data.map((c) => c.id), [cb.id]);
  const all = await stripe.creditNotes.list({ limit: 100 });
  shape(all, 'list');
  assert.deepEqual(all.data.slice(0, 2).map((c) => c.id), [cb.id, ca.id]);
  const page = await stripe.creditNotes.list({ limit: 1, starting_after: cb.id });
  assert.deepEqual(page.data.map((c) => c.id), [ca.id]);
});

test('another merchant: its credit notes and invoices are 404', async () => {
  const customer = await customerWithCard();
  const inv = await openInvoice(customer);
  const cn = await stripe.creditNotes.create({ invoice: inv.id, amount: 100 });
  const other = env.stripe(env.merchants[1].secret_key);
  for (const call of [() => other.creditNotes.retrieve(cn.id), () => other.creditNotes.update(cn.id, { memo: 'x' }),
    () => other.creditNotes.voidCreditNote(cn.id), () => other.creditNotes.listLineItems(cn.id),
    () => other.creditNotes.create({ invoice: inv.id, amount: 100 }), () => other.creditNotes.preview({ invoice: inv.id, amount: 100 })]) {
    await assert.rejects(call(), (e) => e.statusCode === 404 && e.code === 'resource_missing');
  }
  assert.equal((await other.creditNotes.list()).data.length, 0);
  assert.equal((await stripe.invoices.retrieve(inv.id)).amount_due, 1900);
});

test('an idempotent replay of a create answers the same credit note and refunds once', async () => {
  const customer = await customerWithCard();
  const inv = await paidInvoice(customer);
  const { charge } = await chargeOf(inv);
  const key = `cn-${Date.now()}`;
  const params = { invoice: inv.id, amount: 700, refund_amount: 700 };
  const one = await stripe.creditNotes.create(params, { idempotencyKey: key });
  const two = await stripe.creditNotes.create(params, { idempotencyKey: key });
  assert.deepEqual(two, one);
  assert.equal((await stripe.refunds.list({ charge: charge.id })).data.length, 1);
  assert.equal((await stripe.charges.retrieve(charge.id)).amount_refunded, 700);
  assert.equal((await stripe.creditNotes.list({ invoice: inv.id })).data.length, 1);
});

test('tender verify passes: the money in the ledger adds up', async () => {
  assert.match(tender(['verify', '--data', env.dataDir]), /verify: ok/);
});
