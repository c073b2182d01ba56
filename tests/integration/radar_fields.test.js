'use strict';
// Radar's rule fields card_bin, email and email_domain through stripe-node: the merchant's own
// value lists named by a rules file, Stripe's default lists (card_bin_blocklist,
// email_blocklist, email_domain_blocklist and their allow lists) with no rules file, allow lists
// overriding block lists, merchants isolated; and a dispute's evidence files expanded
// (expand[]=evidence.receipt).
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { startTender, assertStripeShape, stopAll, waitFor } = require('./helpers');

let env;
let stripe;  // merchant 0
let stripe1; // merchant 1

before(async () => {
  const rulesFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'tender-radar-fields-')), 'rules');
  fs.writeFileSync(rulesFile, [
    'block if card_bin in @blocked_bins',
    'block if email in @blocked_emails',
    'block if email_domain in @blocked_domains',
    'allow if email in @vip_emails',
    '# the fields compared with words too',
    'block if card_bin == 601111 and amount == 1234',
    'block if email_domain in (evil.test, Worse.Test) and amount == 4321',
    'block if email == Jenny+Fraud@Example.com',
  ].join('\n'));
  env = await startTender({ merchants: 2, args: ['--rules-file', rulesFile] });
  stripe = env.stripe();
  stripe1 = env.stripe(env.merchants[1].secret_key);
});
after(stopAll);

async function rejects(p, status, check = () => {}) {
  try {
    await p;
  } catch (e) {
    assert.equal(e.statusCode, status, e.message);
    check(e);
    return e;
  }
  assert.fail(`expected a ${status}`);
}

async function pay(client, pm, extra = {}) {
  return client.paymentIntents.create({ amount: 2500, currency: 'usd', payment_method: pm, confirm: true, ...extra });
}

// A 402 the merchant's (or Stripe's default) rule gave: the charge is blocked by a rule.
async function blockedByRule(p, client) {
  const e = await rejects(p, 402, (err) => assert.equal(err.decline_code, 'fraudulent'));
  const ch = await client.charges.retrieve(e.raw.payment_intent.latest_charge);
  assert.equal(ch.outcome.type, 'blocked');
  assert.equal(ch.outcome.reason, 'rule');
  return ch;
}

const card = (number, extra = {}) => ({ type: 'card', card: { number, exp_month: 12, exp_year: 2040, cvc: '123' }, ...extra });

async function list(client, alias, itemType, values) {
  const l = await client.radar.valueLists.create({ alias, name: alias, item_type: itemType });
  const items = [];
  for (const v of values) items.push(await client.radar.valueListItems.create({ value_list: l.id, value: v }));
  return { list: l, items };
}

test('card_bin in @list: the first six digits of aliases, stored PaymentMethods, raw cards and tokens; another merchant is unaffected', async () => {
  // a PaymentMethod stored before the list exists keeps its BIN for later payments
  const stored = await stripe.paymentMethods.create(card('5555555555554444'));
  const first = await pay(stripe, 'pm_card_mastercard');
  assert.equal(first.status, 'succeeded');
  const tok = await stripe.tokens.create({ card: { number: '5555 5555 5555 4444', exp_month: 11, exp_year: 2041, cvc: '321' } });

  const { items } = await list(stripe, 'blocked_bins', 'card_bin', ['555555']);
  await blockedByRule(pay(stripe, 'pm_card_mastercard'), stripe);
  await blockedByRule(pay(stripe, stored.id), stripe);
  await blockedByRule(pay(stripe, tok.id), stripe);
  const ch = await blockedByRule(stripe.charges.create({ amount: 900, currency: 'usd', source: 'tok_mastercard' }).catch((e) => {
    // Charges answer the card error with the charge's id
    e.raw.payment_intent = { latest_charge: e.raw.charge };
    throw e;
  }), stripe);
  assert.equal(ch.payment_method_details.card.brand, 'mastercard');
  // the BIN is shown nowhere (Stripe shows it nowhere either)
  assert.equal(JSON.stringify(await stripe.paymentMethods.retrieve(stored.id)).includes('555555'), false);
  assertStripeShape(await stripe.paymentMethods.retrieve(stored.id), 'payment_method');
  // other cards pay; the other merchant, with no such list, pays with this BIN
  assert.equal((await pay(stripe, 'pm_card_visa')).status, 'succeeded');
  assert.equal((await pay(stripe1, 'pm_card_mastercard')).status, 'succeeded');
  // the list's item removed: the card pays again
  await stripe.radar.valueListItems.del(items[0].id);
  assert.equal((await pay(stripe, stored.id)).status, 'succeeded');

  // card_bin == 601111 (a word, no list)
  await blockedByRule(pay(stripe, 'pm_card_discover', { amount: 1234 }), stripe);
  assert.equal((await pay(stripe, 'pm_card_discover', { amount: 1235 })).status, 'succeeded');
});

test('email in @list: the receipt_email, else the card\'s billing email, else the customer\'s; case does not matter', async () => {
  await list(stripe, 'blocked_emails', 'email', ['Fraudster@Example.com']);
  // receipt_email (any case)
  await blockedByRule(pay(stripe, 'pm_card_visa', { receipt_email: 'fraudster@EXAMPLE.com' }), stripe);
  // a charge's receipt_email
  await rejects(stripe.charges.create({ amount: 700, currency: 'usd', source: 'tok_visa', receipt_email: 'FRAUDSTER@example.com' }), 402,
    (e) => assert.equal(e.decline_code, 'fraudulent'));
  // the PaymentMethod's billing email
  const pm = await stripe.paymentMethods.create(card('4242424242424242', { billing_details: { email: 'fraudster@example.com' } }));
  await blockedByRule(pay(stripe, pm.id), stripe);
  // the customer's email, when the payment and its card have none
  const cus = await stripe.customers.create({ email: 'Fraudster@example.com' });
  await blockedByRule(pay(stripe, 'pm_card_visa', { customer: cus.id }), stripe);
  // an updated PaymentIntent's receipt_email is the one confirm reads
  const pi = await stripe.paymentIntents.create({ amount: 2500, currency: 'usd', payment_method: 'pm_card_visa', receipt_email: 'fraudster@example.com' });
  await blockedByRule(stripe.paymentIntents.confirm(pi.id), stripe);
  // the receipt_email comes first: another one makes the customer's irrelevant
  assert.equal((await pay(stripe, 'pm_card_visa', { customer: cus.id, receipt_email: 'ok@example.com' })).status, 'succeeded');
  assert.equal((await pay(stripe, 'pm_card_visa', { receipt_email: 'fraudster@example.org' })).status, 'succeeded');
  // the other merchant's lists are its own
  const cus1 = await stripe1.customers.create({ email: 'fraudster@example.com' });
  assert.equal((await pay(stripe1, 'pm_card_visa', { customer: cus1.id, receipt_email: 'fraudster@example.com' })).status, 'succeeded');
  // email == word
  await blockedByRule(pay(stripe, 'pm_card_visa', { receipt_email: 'jenny+fraud@example.com' }), stripe);
  assert.equal((await pay(stripe, 'pm_card_visa', { receipt_email: 'jenny@example.com' })).status, 'succeeded');
});

test('email_domain in @list (a string list) and in ( … ); an allow list wins over every block rule', async () => {
  await list(stripe, 'blocked_domains', 'string', ['Spam.Example']);
  await blockedByRule(pay(stripe, 'pm_card_visa', { receipt_email: 'anyone@spam.example' }), stripe);
  const cus = await stripe.customers.create({ email: 'someone@SPAM.example' });
  await blockedByRule(pay(stripe, 'pm_card_visa', { customer: cus.id }), stripe);
  assert.equal((await pay(stripe, 'pm_card_visa', { receipt_email: 'anyone@spam.example.org' })).status, 'succeeded');
  await blockedByRule(pay(stripe, 'pm_card_visa', { amount: 4321, receipt_email: 'x@worse.test' }), stripe);
  assert.equal((await pay(stripe, 'pm_card_visa', { amount: 4321, receipt_email: 'x@better.test' })).status, 'succeeded');
  // the other merchant has no such list
  assert.equal((await pay(stripe1, 'pm_card_visa', { receipt_email: 'anyone@spam.example' })).status, 'succeeded');

  // allow if email in @vip_emails: beats the domain block list and a BIN block list
  await list(stripe, 'vip_emails', 'email', ['boss@spam.example']);
  await list(stripe, 'blocked_bins2', 'card_bin', []); // a list no rule names changes nothing
  assert.equal((await pay(stripe, 'pm_card_visa', { receipt_email: 'Boss@Spam.Example' })).status, 'succeeded');
  await blockedByRule(pay(stripe, 'pm_card_visa', { receipt_email: 'staff@spam.example' }), stripe);
});

test('Stripe\'s default lists of card BINs, emails and email domains, without a rules file; allow lists win; a merchant without lists is unaffected', async () => {
  const bare = await startTender({ merchants: 2 }); // no --rules-file
  const s = bare.stripe();
  const other = bare.stripe(bare.merchants[1].secret_key);
  const cus = await s.customers.create({ email: 'mallory@example.net' });
  // before any list: everything pays
  assert.equal((await pay(s, 'pm_card_visa', { customer: cus.id })).status, 'succeeded');

  const bins = await list(s, 'card_bin_blocklist', 'card_bin', ['424242']);
  await blockedByRule(pay(s, 'pm_card_visa'), s);
  assert.equal((await pay(s, 'pm_card_mastercard')).status, 'succeeded');
  // card_bin_allowlist beats card_bin_blocklist
  const allowBins = await list(s, 'card_bin_allowlist', 'card_bin', ['424242']);
  assert.equal((await pay(s, 'pm_card_visa')).status, 'succeeded');
  await s.radar.valueListItems.del(allowBins.items[0].id);
  await blockedByRule(pay(s, 'pm_card_visa'), s);
  await s.radar.valueListItems.del(bins.items[0].id);

  await list(s, 'email_blocklist', 'email', ['Mallory@Example.net']);
  await blockedByRule(pay(s, 'pm_card_mastercard', { customer: cus.id }), s);
  await blockedByRule(pay(s, 'pm_card_mastercard', { receipt_email: 'mallory@example.net' }), s);
  const domains = await list(s, 'email_domain_blocklist', 'string', ['example.org']);
  await blockedByRule(pay(s, 'pm_card_mastercard', { receipt_email: 'eve@example.org' }), s);
  assert.equal((await pay(s, 'pm_card_mastercard', { receipt_email: 'eve@example.com' })).status, 'succeeded');
  // email_allowlist and email_domain_allowlist beat the block lists
  await list(s, 'email_allowlist', 'email', ['mallory@example.net']);
  assert.equal((await pay(s, 'pm_card_mastercard', { customer: cus.id })).status, 'succeeded');
  await list(s, 'email_domain_allowlist', 'string', ['EXAMPLE.ORG']);
  assert.equal((await pay(s, 'pm_card_mastercard', { receipt_email: 'eve@example.org' })).status, 'succeeded');
  await s.radar.valueListItems.create({ value_list: bins.list.id, value: '555555' });
  assert.equal((await pay(s, 'pm_card_mastercard', { receipt_email: 'eve@example.org' })).status, 'succeeded');
  await blockedByRule(pay(s, 'pm_card_mastercard', { receipt_email: 'eve@example.com' }), s);
  assert.equal(domains.list.item_type, 'string');

  // the other merchant, without lists, pays with all of these
  const cus1 = await other.customers.create({ email: 'mallory@example.net' });
  assert.equal((await pay(other, 'pm_card_mastercard', { customer: cus1.id })).status, 'succeeded');
  assert.equal((await pay(other, 'pm_card_visa', { receipt_email: 'eve@example.org' })).status, 'succeeded');
  await bare.stop();
});

function makePdf(text) {
  const objs = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 100] /Contents 4 0 R >>',
    null,
  ];
  const stream = `BT 20 50 Td (${text}) Tj ET`;
  objs[3] = `<< /Length ${stream.length} >>\nstream\n${stream}\nendstream`;
  let out = '%PDF-1.4\n';
  const offs = [];
  objs.forEach((o, i) => { offs.push(Buffer.byteLength(out, 'latin1')); out += `${i + 1} 0 obj\n${o}\nendobj\n`; });
  const xref = Buffer.byteLength(out, 'latin1');
  out += `xref\n0 ${objs.length + 1}\n0000000000 65535 f \n`;
  for (const o of offs) out += `${String(o).padStart(10, '0')} 00000 n \n`;
  out += `trailer\n<< /Size ${objs.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, 'latin1');
}

test('a dispute\'s evidence files: expand[]=evidence.receipt (and evidence.customer_signature) gives the File objects', async () => {
  const pi = await pay(stripe1, 'pm_card_createDispute', 3000);
  const d = await waitFor(async () => (await stripe1.disputes.list({ charge: pi.latest_charge })).data[0], 'the dispute');
  const receipt = await stripe1.files.create({ file: { data: makePdf('receipt'), name: 'receipt.pdf', type: 'application/pdf' }, purpose: 'dispute_evidence' });
  const signature = await stripe1.files.create({ file: { data: makePdf('signature'), name: 'sig.pdf', type: 'application/pdf' }, purpose: 'dispute_evidence' });
  const upd = await stripe1.disputes.update(d.id, {
    evidence: { receipt: receipt.id, customer_signature: signature.id, customer_name: 'Jenny Rosen' },
    submit: false,
    expand: ['evidence.receipt'],
  });
  assertStripeShape(upd, 'dispute');
  assert.equal(upd.evidence.receipt.id, receipt.id);
  assert.equal(upd.evidence.receipt.object, 'file');
  assert.equal(upd.evidence.customer_signature, signature.id);

  const both = await stripe1.disputes.retrieve(d.id, { expand: ['evidence.receipt', 'evidence.customer_signature', 'evidence.customer_name'] });
  assertStripeShape(both, 'dispute');
  const rf = await stripe1.files.retrieve(receipt.id);
  assert.deepEqual(both.evidence.receipt, rf);
  assert.deepEqual(both.evidence.customer_signature, await stripe1.files.retrieve(signature.id));
  assert.equal(both.evidence.customer_name, 'Jenny Rosen'); // not a file: stays text
  assert.equal(both.evidence.uncategorized_file, null);
  // without expand: ids, as before
  const plain = await stripe1.disputes.retrieve(d.id);
  assert.equal(plain.evidence.receipt, receipt.id);
  // the list: data.evidence.receipt
  const l = await stripe1.disputes.list({ charge: pi.latest_charge, expand: ['data.evidence.receipt'] });
  assert.deepEqual(l.data[0].evidence.receipt, rf);
  assert.equal(l.data[0].evidence.customer_signature, signature.id);
  // another merchant sees neither the dispute nor its files
  await rejects(stripe.disputes.retrieve(d.id, { expand: ['evidence.receipt'] }), 404);
});
