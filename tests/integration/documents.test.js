'use strict';
// PDFs of invoices, credit notes and quotes through stripe-node: an invoice with lines, a
// discount and a tax rate, finalized and paid: its invoice_pdf (the hosted page's URL + /pdf,
// fetched without a key) is a PDF whose text (pdftotext, poppler-utils) shows its number, lines,
// discount, tax, total and status; a draft's invoice_pdf is null; a wrong secret is a 404; a
// subscription's invoice (no hosted page) has one too; a credit note's pdf; a quote's PDF
// through stripe.quotes.pdf() (a stream), a draft quote's 400, another merchant's 404. Objects
// are checked against Stripe's OpenAPI spec.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const { startTender, stopAll } = require('./helpers');
const { billingShape } = require('./billing_helpers');

let env;
let stripe;
let other;
let customer;
let vat;
let paid; // the paid invoice

before(async () => {
  env = await startTender({ merchants: 2 });
  stripe = env.stripe();
  other = env.stripe(env.merchants[1].secret_key);
});
after(stopAll);

const invoiceShape = (obj) => billingShape(obj, 'invoice', [
  /^\$(\.discounts\[\d+\])?\.coupon: missing required property$/,
]);

// GET url without a key: {status, headers, body (Buffer)}
async function fetchBytes(url) {
  const res = await fetch(url);
  return { status: res.status, headers: res.headers, body: Buffer.from(await res.arrayBuffer()) };
}

function pdfText(buf) {
  const f = path.join(os.tmpdir(), `tender-doc-${process.pid}-${Math.random().toString(36).slice(2)}.pdf`);
  fs.writeFileSync(f, buf);
  try {
    return execFileSync('pdftotext', ['-layout', f, '-'], { encoding: 'utf8' });
  } finally {
    fs.unlinkSync(f);
  }
}

function assertPdf(buf) {
  assert.equal(buf.subarray(0, 5).toString('latin1'), '%PDF-');
  assert.ok(buf.subarray(-1024).toString('latin1').includes('%%EOF'), 'ends with %%EOF');
}

test('an invoice with lines, a discount and a tax rate: a draft has no PDF, a finalized one does', async () => {
  vat = await stripe.taxRates.create({ display_name: 'VAT', percentage: 20, inclusive: false });
  const coupon = await stripe.coupons.create({ percent_off: 10, name: 'Ten off' });
  customer = await stripe.customers.create({
    name: 'Jenny Rosen', email: 'jenny@example.com',
    address: { line1: '1 Main Street', city: 'Springfield', postal_code: '12345', country: 'US' },
    payment_method: 'pm_card_visa', invoice_settings: { default_payment_method: 'pm_card_visa' },
  });
  const draft = await stripe.invoices.create({
    customer: customer.id, discounts: [{ coupon: coupon.id }], default_tax_rates: [vat.id],
    description: 'Thank you for your business.',
  });
  await stripe.invoiceItems.create({ customer: customer.id, invoice: draft.id, unit_amount: 15000, quantity: 2, currency: 'usd', description: 'Consulting hours' });
  await stripe.invoiceItems.create({ customer: customer.id, invoice: draft.id, amount: 5000, currency: 'usd', description: 'Setup fee' });
  const d = await stripe.invoices.retrieve(draft.id);
  assert.equal(d.status, 'draft');
  assert.equal(d.invoice_pdf, null);
  invoiceShape(d);

  await stripe.invoices.finalizeInvoice(draft.id, { auto_advance: false });
  paid = await stripe.invoices.pay(draft.id);
  assert.equal(paid.status, 'paid');
  // 35000, 10 % off: 31500, 20 % VAT on it: 6300, total 37800
  assert.deepEqual([paid.subtotal, paid.total], [35000, 37800]);
  invoiceShape(paid);
  assert.equal(typeof paid.invoice_pdf, 'string');
  assert.equal(paid.invoice_pdf, `${paid.hosted_invoice_url}/pdf`);
  const again = await stripe.invoices.retrieve(paid.id);
  assert.equal(again.invoice_pdf, paid.invoice_pdf, 'the URL is stable');
});

test("the invoice's PDF: served without a key, its text shows the invoice", async () => {
  const res = await fetchBytes(paid.invoice_pdf);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'application/pdf');
  assert.equal(res.headers.get('content-disposition'), `inline; filename="Invoice-${paid.number}.pdf"`);
  assertPdf(res.body);
  const text = pdfText(res.body);
  assert.ok(text.includes(paid.number), text);
  assert.ok(text.includes('Consulting hours'));
  assert.ok(text.includes('Setup fee'));
  assert.match(text, /Consulting hours\s+2\s+150\.00 USD\s+300\.00 USD/);
  assert.match(text, /Subtotal\s+350\.00 USD/);
  assert.match(text, /Discount\s+-35\.00 USD/);
  assert.match(text, /VAT \(20%\)\s+63\.00 USD/);
  assert.match(text, /Total\s+378\.00 USD/);
  assert.match(text, /Amount paid\s+378\.00 USD/);
  assert.match(text, /Amount remaining\s+0\.00 USD/);
  assert.match(text, /Status\s+Paid/);
  for (const s of ['Jenny Rosen', 'jenny@example.com', '1 Main Street', 'Merchant 0', 'Thank you for your business.'])
    assert.ok(text.includes(s), s);
  assert.ok(!text.includes('4242424242424242') && !res.body.includes('4242424242424242'), 'no card number');
  // the same invoice, the same bytes (its dates, not the time of the request)
  const second = await fetchBytes(paid.invoice_pdf);
  assert.ok(second.body.equals(res.body));
});

test('the hosted page links to the PDF; a wrong secret is a 404', async () => {
  const page = await fetch(paid.hosted_invoice_url);
  assert.equal(page.status, 200);
  const html = await page.text();
  const pagePath = new URL(paid.hosted_invoice_url).pathname;
  assert.ok(html.includes(`href="${pagePath}/pdf"`), 'Download invoice link');
  assert.ok(html.includes('Download invoice'));
  // the id form takes the same secret (both are the invoice's page secret)
  const viaId = await fetchBytes(paid.invoice_pdf.replace(/\/invoice\/([^/]+)\//, `/invoice/$1/${paid.id}/`));
  assert.equal(viaId.status, 200);
  assertPdf(viaId.body);

  const url = new URL(paid.invoice_pdf);
  const parts = url.pathname.split('/'); // ['', 'invoice', acct, token, 'pdf']
  const tok = parts[3];
  const wrong = tok.slice(0, -1) + (tok.endsWith('a') ? 'b' : 'a');
  for (const p of [
    `/invoice/${parts[2]}/${wrong}/pdf`,
    `/invoice/${parts[2]}/short/pdf`,
    `/invoice/${env.merchants[1].id}/${tok}/pdf`,
    `/invoice/${parts[2]}/${paid.id}/${wrong}/pdf`,
    `/credit_note/${parts[2]}/${paid.id}/${tok}/pdf`, // an invoice is not a credit note
  ]) {
    const r = await env.request({ path: p });
    assert.equal(r.status, 404, p);
    assert.ok(!r.body.startsWith('%PDF'));
  }
});

test("a subscription's invoice has its hosted page and its PDF", async () => {
  const product = await stripe.products.create({ name: 'Gold plan' });
  const price = await stripe.prices.create({ currency: 'usd', unit_amount: 2000, product: product.id, recurring: { interval: 'month' } });
  const sub = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: price.id }], expand: ['latest_invoice'] });
  const inv = sub.latest_invoice;
  assert.equal(inv.status, 'paid');
  assert.match(inv.hosted_invoice_url, new RegExp(`/invoice/${env.merchant.id}/[0-9A-Za-z]{43}$`));
  assert.equal(inv.invoice_pdf, `${inv.hosted_invoice_url}/pdf`);
  invoiceShape(await stripe.invoices.retrieve(inv.id));
  const res = await fetchBytes(inv.invoice_pdf);
  assert.equal(res.status, 200);
  assertPdf(res.body);
  const text = pdfText(res.body);
  assert.ok(text.includes(inv.number));
  assert.match(text, /Total\s+20\.00 USD/); // the subscription has no tax rates
});

test("a credit note's pdf", async () => {
  const cn = await stripe.creditNotes.create({
    invoice: paid.id, credit_amount: 1000, memo: 'Sorry for the delay',
    lines: [{ type: 'custom_line_item', description: 'Goodwill credit', unit_amount: 1000, quantity: 1 }],
  });
  billingShape(cn, 'credit_note');
  assert.match(cn.pdf, new RegExp(`^http://127\\.0\\.0\\.1:${env.port}/credit_note/${env.merchant.id}/${cn.id}/[0-9A-Za-z]{43}/pdf$`));
  const res = await fetchBytes(cn.pdf);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'application/pdf');
  assert.equal(res.headers.get('content-disposition'), `inline; filename="CreditNote-${cn.number}.pdf"`);
  assertPdf(res.body);
  const text = pdfText(res.body);
  for (const s of [cn.number, paid.number, 'Goodwill credit', 'Sorry for the delay', 'Jenny Rosen'])
    assert.ok(text.includes(s), s);
  assert.match(text, /Total credited\s+10\.00 USD/);
  // a wrong secret, or the invoice's secret on the credit note
  const wrong = cn.pdf.replace(/\/([0-9A-Za-z]{43})\/pdf$/, (m, t) => `/${t.slice(0, -1)}${t.endsWith('a') ? 'b' : 'a'}/pdf`);
  assert.equal((await fetch(wrong)).status, 404);
  const preview = await stripe.creditNotes.preview({ invoice: paid.id, credit_amount: 500, lines: [{ type: 'custom_line_item', description: 'x', unit_amount: 500, quantity: 1 }] });
  assert.equal(preview.pdf, '');
});

test("a quote's PDF through stripe.quotes.pdf(); a draft's is a 400", async () => {
  const product = await stripe.products.create({ name: 'Annual support' });
  const price = await stripe.prices.create({ currency: 'usd', unit_amount: 2500, product: product.id });
  const q = await stripe.quotes.create({ customer: customer.id, line_items: [{ price: price.id, quantity: 2 }], description: 'Valid for thirty days' });
  await assert.rejects(stripe.quotes.pdf(q.id), (e) => {
    assert.equal(e.statusCode, 400);
    assert.equal(e.type, 'StripeInvalidRequestError');
    return true;
  });
  const open = await stripe.quotes.finalizeQuote(q.id);
  assert.equal(open.status, 'open');
  const stream = await stripe.quotes.pdf(q.id);
  const chunks = [];
  for await (const c of stream) chunks.push(c);
  const body = Buffer.concat(chunks);
  assertPdf(body);
  const text = pdfText(body);
  for (const s of [open.number, 'Annual support', 'Jenny Rosen', 'Valid for thirty days', 'Quote'])
    assert.ok(text.includes(s), s);
  assert.match(text, /Annual support\s+2\s+25\.00 USD\s+50\.00 USD/);
  assert.match(text, /Total\s+50\.00 USD/);
  // another merchant's key: no such quote
  await assert.rejects(other.quotes.pdf(q.id), (e) => e.statusCode === 404);
  // canceled after finalizing: still has its PDF
  await stripe.quotes.cancel(q.id);
  const again = await stripe.quotes.pdf(q.id);
  const c2 = [];
  for await (const c of again) c2.push(c);
  assert.match(pdfText(Buffer.concat(c2)), /Status\s+Canceled/);
});
