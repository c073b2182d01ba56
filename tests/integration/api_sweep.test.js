'use strict';
// A sweep of every route the server dispatches on (`tender routes`, the server's own tables), on
// one server with two merchants: merchant B's key never sees or changes merchant A's objects,
// an unknown parameter is a 400 parameter_unknown naming it, garbage in the declared parameters
// is a Stripe-shaped 4xx (or a 2xx where it is valid), never a 5xx or a non-JSON /v1 answer,
// keys are checked as Stripe does, the server stays up throughout, money is conserved at the
// end (`tender verify`) and the server's log holds no card number.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const { startTender, stopAll, tender, request } = require('./helpers');

let env;
let A; // merchant A's stripe-node client
let routes;
const idsA = {}; // collection segment (or "parent/segment") -> an id of merchant A's
const ids = idsA;
const idsB = {}; // the few objects merchant B has of its own
const snapshots = []; // [{ path, body }]: A's objects as A reads them before B's pass
const findings = [];
const seeded = []; // the objects seed() made, for the page URLs they carry
// card numbers sent as garbage: none may reach the server's log. Luhn-valid, but none of
// Stripe's test cards: a garbage value lands in clear where the API keeps free text (a
// description, a name), and on PostgreSQL every test file's secret scan reads the WAL all the
// files share, looking for the test cards it used
const PANS = ['4111946372518201', '5398162047753188', '6011738291045564'];

const CONCURRENCY = 8;
async function pool(items, fn) {
  let next = 0;
  const workers = Array.from({ length: CONCURRENCY }, async () => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i], i);
    }
  });
  await Promise.all(workers);
}

before(async () => {
  // no rate limit: the sweep sends thousands of requests a second on purpose
  env = await startTender({ merchants: 2, args: ['--rate-limit', '0'] });
  A = env.stripe();
  routes = tender(['routes']).trim().split('\n').map((l) => JSON.parse(l));
  await seed();
});
after(stopAll);

// One object of each kind merchant A can make cheaply; a seed that fails leaves its kind to an
// unknown id (listed on stderr, so that a broken seed is seen).
async function seed() {
  const s = async (keys, fn) => {
    try {
      const o = await fn();
      if (o && typeof o === 'object') seeded.push(o);
      for (const k of [].concat(keys)) ids[k] = typeof o === 'string' ? o : o.id;
      return o;
    } catch (e) {
      process.stderr.write(`api_sweep: seed ${keys} failed: ${e.message}\n`);
      return null;
    }
  };
  const cus = await s(['customers'], () => A.customers.create({ email: 'sweep@example.com', metadata: { k: 'v' } }));
  // funds available at once (pm_card_bypassPending): payouts and transfers take them
  await A.paymentIntents.create({ amount: 100000, currency: 'usd', payment_method: 'pm_card_bypassPending', confirm: true });
  const product = await s(['products'], () => A.products.create({ name: 'Sweep' }));
  const price = await s(['prices'], () => A.prices.create({ product: product.id, currency: 'usd', unit_amount: 1000, recurring: { interval: 'month' } }));
  await s(['plans'], () => A.plans.create({ product: product.id, currency: 'usd', amount: 500, interval: 'month' }));
  const pm = await s(['payment_methods'], () => A.paymentMethods.create({ type: 'card', card: { token: 'tok_visa' } }));
  if (pm && cus) {
    await A.paymentMethods.attach(pm.id, { customer: cus.id }).catch(() => {});
    await A.customers.update(cus.id, { invoice_settings: { default_payment_method: pm.id } }).catch(() => {});
  }
  const pi = await s(['payment_intents'], () => A.paymentIntents.create({ amount: 5000, currency: 'usd', payment_method: 'pm_card_visa', confirm: true }));
  if (pi) ids.charges = pi.latest_charge;
  await s(['refunds'], () => A.refunds.create({ payment_intent: pi.id, amount: 100 }));
  await s(['setup_intents'], () => A.setupIntents.create({ payment_method_types: ['card'] }));
  const dpi = await s(['disputed_pi'], () => A.paymentIntents.create({ amount: 3000, currency: 'usd', payment_method: 'pm_card_createDispute', confirm: true }));
  if (dpi) {
    await new Promise((r) => setTimeout(r, 200));
    const d = await A.disputes.list({ limit: 1 }).catch(() => ({ data: [] }));
    if (d.data[0]) ids.disputes = d.data[0].id;
  }
  await s(['webhook_endpoints'], () => A.webhookEndpoints.create({ url: 'https://example.com/hook', enabled_events: ['*'] }));
  await s(['coupons'], () => A.coupons.create({ percent_off: 10, duration: 'once' }));
  await s(['promotion_codes'], () => A.promotionCodes.create({ coupon: ids.coupons, code: 'SWEEP10' }));
  await s(['tax_rates'], () => A.taxRates.create({ display_name: 'VAT', percentage: 20, inclusive: false }));
  await s(['shipping_rates'], () => A.shippingRates.create({ display_name: 'Ground', type: 'fixed_amount', fixed_amount: { amount: 500, currency: 'usd' } }));
  await s(['payment_links'], () => A.paymentLinks.create({ line_items: [{ price: price.id, quantity: 1 }] }));
  await s(['sessions', 'checkout_sessions'], () => A.checkout.sessions.create({ mode: 'subscription', line_items: [{ price: price.id, quantity: 1 }], success_url: 'https://example.com/ok' }));
  const sub = await s(['subscriptions'], () => A.subscriptions.create({ customer: cus.id, items: [{ price: price.id }], default_payment_method: pm.id }));
  if (sub) ids.subscription_items = sub.items.data[0].id;
  if (sub) ids.invoices = sub.latest_invoice;
  await s(['invoiceitems'], () => A.invoiceItems.create({ customer: cus.id, amount: 700, currency: 'usd' }));
  await s(['draft_invoice'], () => A.invoices.create({ customer: cus.id, auto_advance: false }));
  await s(['subscription_schedules'], () => A.subscriptionSchedules.create({ customer: cus.id, start_date: 'now', phases: [{ items: [{ price: price.id }], iterations: 2 }] }));
  await s(['quotes'], () => A.quotes.create({ customer: cus.id, line_items: [{ price: price.id, quantity: 1 }] }));
  if (ids.invoices) await s(['credit_notes'], () => A.creditNotes.create({ invoice: ids.invoices, amount: 100, credit_amount: 100 }));
  await s(['test_clocks'], () => A.testHelpers.testClocks.create({ frozen_time: Math.floor(Date.now() / 1000) }));
  await s(['payouts'], () => A.payouts.create({ amount: 100, currency: 'usd' }));
  await s(['topups'], () => A.topups.create({ amount: 1000, currency: 'usd', source: 'btok_us_verified' }));
  // Issuing: a cardholder, an active card, an authorization (declined: the cardholder's terms
  // are not accepted), a force capture and a dispute of it
  const ich = await s(['issuing_cardholders'], () => A.issuing.cardholders.create({ name: 'Sweep Holder', billing: { address: { line1: '1 Main', city: 'SF', state: 'CA', postal_code: '94110', country: 'US' } } }));
  if (ich) await s(['issuing_cards'], () => A.issuing.cards.create({ cardholder: ich.id, type: 'virtual', currency: 'usd', status: 'active' }));
  if (ids.issuing_cards) {
    await s(['issuing_authorizations'], () => A.testHelpers.issuing.authorizations.create({ card: ids.issuing_cards, amount: 100 }));
    await s(['issuing_transactions'], () => A.testHelpers.issuing.transactions.createForceCapture({ card: ids.issuing_cards, amount: 100 }));
    await s(['issuing_disputes'], () => A.issuing.disputes.create({ transaction: ids.issuing_transactions }));
  }
  const acct = await s(['accounts'], () => A.accounts.create({ type: 'custom', country: 'US', email: 'c@example.com' }));
  if (acct) {
    await s(['persons', 'people'], () => A.accounts.createPerson(acct.id, { first_name: 'Jo', last_name: 'Doe' }));
    await s(['external_accounts'], () => A.accounts.createExternalAccount(acct.id, { external_account: 'btok_us_verified' }));
    await s(['capabilities'], () => 'card_payments');
    await s(['transfers'], () => A.transfers.create({ amount: 100, currency: 'usd', destination: acct.id }));
  }
  await s(['value_lists'], () => A.radar.valueLists.create({ alias: 'sweep_list', name: 'Sweep', item_type: 'email' }));
  await s(['value_list_items'], () => A.radar.valueListItems.create({ value_list: ids.value_lists, value: 'x@example.com' }));
  await s(['meters'], () => A.billing.meters.create({ display_name: 'Calls', event_name: 'sweep_calls', default_aggregation: { formula: 'sum' } }));
  await s(['features'], () => A.entitlements.features.create({ name: 'Sweep', lookup_key: 'sweep' }));
  await s(['locations'], () => A.terminal.locations.create({ display_name: 'Shop', address: { line1: '1 Main', city: 'SF', state: 'CA', postal_code: '94110', country: 'US' } }));
  await s(['readers'], () => A.terminal.readers.create({ registration_code: 'simulated-wpe', location: ids.locations }));
  await s(['verification_sessions'], () => A.identity.verificationSessions.create({ type: 'document' }));
  await s(['fc_sessions'], () => A.financialConnections.sessions.create({ account_holder: { type: 'customer', customer: cus.id }, permissions: ['payment_method'] }));
  await s(['sources'], () => A.sources.create({ type: 'card', token: 'tok_visa' }));
  await s(['tax_ids'], () => A.customers.createTaxId(cus.id, { type: 'eu_vat', value: 'DE123456789' }));
  await s(['payment_method_domains'], () => A.paymentMethodDomains.create({ domain_name: 'sweep.example.com' }));
  await s(['files'], () => A.files.create({ purpose: 'dispute_evidence', file: { data: Buffer.from('%PDF-1.4\n%sweep\n'), name: 'e.pdf', type: 'application/pdf' } }));
  await s(['file_links'], () => A.fileLinks.create({ file: ids.files }));
  await s(['events'], async () => (await A.events.list({ limit: 1 })).data[0]);
  await s(['balance_transactions'], async () => (await A.balanceTransactions.list({ limit: 1 })).data[0]);
  await s(['confirmation_tokens'], () => A.testHelpers.confirmationTokens.create({ payment_method: 'pm_card_visa' }));
  // Treasury: the platform's own financial account and one of each of its objects
  const fa = await s(['financial_accounts'], () => A.treasury.financialAccounts.create({ supported_currencies: ['usd'],
    features: { inbound_transfers: { ach: { requested: true } }, outbound_payments: { ach: { requested: true } }, outbound_transfers: { ach: { requested: true } } } }));
  const bank = fa && await A.paymentMethods.create({ type: 'us_bank_account', billing_details: { name: 'Sweep' },
    us_bank_account: { routing_number: '110000000', account_number: '000123456789', account_holder_type: 'company' } }).catch(() => null);
  if (fa && bank) {
    const th = A.testHelpers.treasury;
    const rc = await s(['received_credits'], () => th.receivedCredits.create({ financial_account: fa.id, amount: 5000, currency: 'usd', network: 'ach' }));
    const rd = await s(['received_debits'], () => th.receivedDebits.create({ financial_account: fa.id, amount: 100, currency: 'usd', network: 'ach' }));
    if (rc) ids.transactions = rc.transaction;
    await th.receivedCredits.create({ financial_account: fa.id, amount: 1000, currency: 'usd', network: 'ach' }).catch(() => null);
    if (rc) await s(['credit_reversals', 'credit_reversal'], () => A.treasury.creditReversals.create({ received_credit: rc.id }));
    await s(['transaction_entries'], async () => (await A.treasury.transactionEntries.list({ financial_account: fa.id, limit: 1 })).data[0]);
    await s(['outbound_transfers', 'outbound_transfer'], () => A.treasury.outboundTransfers.create({ financial_account: fa.id, amount: 100, currency: 'usd', destination_payment_method: bank.id }));
    await s(['outbound_payments'], () => A.treasury.outboundPayments.create({ financial_account: fa.id, amount: 100, currency: 'usd', destination_payment_method: bank.id }));
    await s(['inbound_transfers', 'inbound_transfer'], () => A.treasury.inboundTransfers.create({ financial_account: fa.id, amount: 100, currency: 'usd', origin_payment_method: bank.id }));
    if (rd) await s(['debit_reversals', 'debit_reversal'], () => A.treasury.debitReversals.create({ received_debit: rd.id }));
  }
}

// ---- paths --------------------------------------------------------------------------------

const UNKNOWN = 'zz_sweepUnknown0000000000';
// the id a path parameter names: by its preceding segment ("parent/segment" first)
function idFor(segs, i, ids = idsA) {
  const prev = segs[i - 1] || '';
  const parent = segs[i - 3] || '';
  const name = segs[i].slice(1, -1);
  // /v1/issuing/… and /v1/test_helpers/issuing/…: Issuing's cards, disputes, … (not the legacy
  // card sources' or the charges' disputes of the same segment name)
  if (segs.includes('issuing') && ids[`issuing_${prev}`]) return ids[`issuing_${prev}`];
  if (prev === 'sessions' && parent === 'financial_connections') return ids.fc_sessions;
  if (prev === 'sessions' && parent === 'checkout') return ids.sessions;
  if (prev === 'sessions' && segs.includes('billing_portal')) return undefined;
  if (prev === 'invoices' && segs.includes('finalize')) return ids.draft_invoice || ids.invoices;
  if (name === 'capability') return ids.capabilities;
  if (prev === 'accounts' || prev === 'onboarding' || prev === 'express') return ids.accounts;
  if (prev === 'external_accounts' || (prev === 'bank_accounts' && segs.includes('accounts'))) return ids.external_accounts;
  if (prev === 'customers') return ids.customers;
  if (prev === 'invoices') return ids.invoices;
  return ids[prev];
}

function fillPath(pattern, fill) {
  const segs = pattern.split('/');
  let mapped = 0;
  const out = segs.map((seg, i) => {
    if (!/^\{.*\}$/.test(seg)) return seg;
    const v = fill(segs, i);
    if (v) mapped++;
    return encodeURIComponent(v || UNKNOWN);
  });
  return { path: out.join('/'), mapped };
}

// the keyed /v1 routes: JSON answers (a raw one's, a PDF's or a file's contents, only when
// it refuses)
const isApi = (rt) => rt.pattern.startsWith('/v1/') && !rt.flags.includes('no_auth');

function form(pairs) {
  return pairs.map(([k, v]) => `${encodeURIComponent(k).replace(/%5B/g, '[').replace(/%5D/g, ']')}=${encodeURIComponent(v)}`).join('&');
}

// a request with form pairs: in the query for GET and DELETE, in the body for POST
function send(rt, path, pairs, key = env.merchant.secret_key, headers = {}) {
  const f = form(pairs);
  if (rt.method === 'POST') return request({ port: env.port, method: 'POST', path, body: f, key, headers });
  return request({ port: env.port, method: rt.method, path: f ? `${path}?${f}` : path, key, headers });
}

// every answer of a /v1 route: JSON, never a 5xx, a 4xx with Stripe's error shape
const statuses = {};
function checkAnswer(rt, path, what, res) {
  statuses[res.status] = (statuses[res.status] || 0) + 1;
  const where = `${rt.method} ${rt.pattern} (${path}) ${what}: ${res.status} ${res.body.slice(0, 300)}`;
  if (res.status >= 500) {
    findings.push(where);
    return false;
  }
  if (!isApi(rt) || (rt.flags.includes('raw') && res.status < 400)) return true;
  if (res.json === undefined) {
    findings.push(`non-JSON answer: ${where}`);
    return false;
  }
  if (res.status >= 400) {
    const e = res.json.error;
    if (!e || typeof e.type !== 'string' || typeof e.message !== 'string' || !e.message) {
      findings.push(`not a Stripe error: ${where}`);
      return false;
    }
  }
  return true;
}

async function healthy() {
  const h = await request({ port: env.port, path: '/healthz' });
  assert.equal(h.status, 200, 'the server stopped answering');
}

// ---- garbage ------------------------------------------------------------------------------

const LONG = 'x'.repeat(5000);
// what a page's forms post to (suffixes of a page's URL) and garbage they may be sent
const PAGE_ACTIONS = ['', '/start', '/complete', '/fail', '/authorize', '/address', '/quantities', '/promotion_code',
  '/recover', '/cancel', '/details', '/payment_method'];
const PAGE_BODIES = ['', 'a=1', `card[number]=${PANS[0]}&card[exp_month]=13&card[exp_year]=1&card[cvc]=x`,
  `number=${PANS[1]}&exp=99/99&cvc=1234567`, 'quantity=-1', 'quantities[0]=99999999999999999999',
  'line_items[0][quantity]=9223372036854775807', 'code=' + 'z'.repeat(3000), 'email=%00&name=%ff',
  'country=ZZ&postal_code=' + 'x'.repeat(500), 'amounts[]=32&amounts[]=45', 'amounts[]=-1&amounts[]=99999999999999',
  'descriptor_code=' + 'Z'.repeat(100), 'payment_method=pm_card_visa', 'token=' + 'x'.repeat(300)];
const RAW_FORMS = ['%zz=1', 'a=%ff%fe', 'email=%00', 'zz=1&zz=2', '&&&=&', '[]=1', 'a[=1', 'a]=1', 'a[]][[=1',
  'metadata[]=1', 'expand[][]=x', `${'a'.repeat(3000)}=1`, 'limit=1&limit[x]=2', '=', 'a[0]=1&a[x]=2', 'a[1000000]=1'];
const DEEP = `${'[a]'.repeat(40)}`;
// parameters that name an object: the kind of object
const refName = {
  customer: 'customers', price: 'prices', product: 'products', payment_method: 'payment_methods',
  payment_intent: 'payment_intents', charge: 'charges', invoice: 'invoices', subscription: 'subscriptions',
  coupon: 'coupons', file: 'files', location: 'locations', source: 'sources', promotion_code: 'promotion_codes',
  setup_intent: 'setup_intents', plan: 'plans', quote: 'quotes', subscription_item: 'subscription_items',
  test_clock: 'test_clocks', value_list: 'value_lists', payment_link: 'payment_links', destination: 'accounts',
  dispute: 'disputes', refund: 'refunds', shipping_rate: 'shipping_rates', tax_rate: 'tax_rates',
  confirmation_token: 'confirmation_tokens', feature: 'features', reader: 'readers', session: 'sessions',
  subscription_schedule: 'subscription_schedules', credit_note: 'credit_notes', transfer: 'transfers',
  payout: 'payouts', on_behalf_of: 'accounts', from_invoice: 'invoices', mandate: 'mandates',
  default_payment_method: 'payment_methods', default_source: 'sources', invoiceitem: 'invoiceitems',
  tax_rates: 'tax_rates', default_tax_rates: 'tax_rates', shipping_rates: 'shipping_rates', prices: 'prices',
  products: 'products', features: 'features', entitlement_feature: 'features', meter: 'meters', tax_id: 'tax_ids',
  webhook_endpoint: 'webhook_endpoints', review: 'reviews', early_fraud_warning: 'early_fraud_warnings',
  source_transaction: 'charges', from_subscription: 'subscriptions', from_quote: 'quotes', default_price: 'prices',
  verification_session: 'verification_sessions', external_account: 'external_accounts', person: 'persons',
  balance_transaction: 'balance_transactions', event: 'events', promotion_codes: 'promotion_codes', coupons: 'coupons',
};
function plausible(p) {
  switch (p.type) {
    case 'integer': return '100';
    case 'boolean': return 'true';
    case 'currency': return 'usd';
    case 'enum': return p.enum && p.enum[0];
    case 'string': {
      return refName[p.name] ? ids[refName[p.name]] : undefined;
    }
    default: return undefined;
  }
}
// garbage for one declared parameter: [name, value] pairs each, by its type, plus what any
// parameter may be sent (an array or a hash where a scalar is expected, a deep hash)
function garbage(p) {
  const n = p.name;
  const common = [[[`${n}[x]`, '1']], [[`${n}[0]`, 'a'], [`${n}[1]`, 'b']], [[`${n}${DEEP}`, '1']]];
  const typed = {
    integer: [[[n, 'abc']], [[n, '-1']], [[n, '9223372036854775807']], [[n, '-9223372036854775808']], [[n, '99999999999999999999']], [[n, '0']]],
    boolean: [[[n, 'maybe']]],
    enum: [[[n, 'zz_not_a_value']], [[n, '']]],
    currency: [[[n, 'zzz']], [[n, 'US']], [[n, '']]],
    string: [[[n, LONG]], [[n, `${LONG}y`]], [[n, PANS[1]]], [[n, '']], [[n, 'cus_../../etc']], [[n, '\u00e9\u0000\ud83d\ude00']]],
    metadata: [[[n, 'abc']], [[`${n}[k]`, LONG]]],
    expand: [[[`${n}[]`, 'nope']], [[n, 'nope']]],
    array: [[[`${n}[]`, LONG]], [[n, 'abc']]],
    object: [[[n, 'abc']], [[`${n}[zz]`, '1']]],
    range: [[[n, 'abc']], [[`${n}[gt]`, 'abc']], [[`${n}[lt]`, '-9223372036854775808']]],
    hash: [[[n, 'abc']], [[`${n}[k][j]`, '1']]],
    object_array: [[[n, 'abc']], [[`${n}[0]`, 'abc']], [[`${n}[0][zz]`, '1']]],
    object_map: [[[n, 'abc']], [[`${n}[usd]`, 'abc']]],
  }[p.type] || [];
  return [...typed, ...common];
}
// a declared parameter's nested parameters (shipping[address][line1], items[0][quantity],
// currency_options[usd][unit_amount]), each with its form key and the required parameters
// beside it on the way down, plausibly filled
function nestedLeaves(p, key = p.name, around = []) {
  const out = [];
  if (!p.children) return out;
  const sub = p.type === 'object_array' ? `${key}[0]` : p.type === 'object_map' ? `${key}[usd]` : key;
  const here = [...around];
  for (const c of p.children) {
    if (!c.required) continue;
    const v = plausible(c);
    if (v !== undefined) here.push([`${sub}[${c.name}]`, v]);
  }
  for (const c of p.children) {
    const k = `${sub}[${c.name}]`;
    const siblings = here.filter(([hk]) => hk !== k);
    if (c.children) out.push(...nestedLeaves(c, k, siblings));
    else out.push({ key: k, param: { ...c, name: k }, around: siblings });
  }
  return out;
}
// garbage for a nested parameter: the typed values only (the array / hash forms are the
// top-level ones' too), integers all of them (where overflow hides), others the first two
function nestedGarbage(leaf) {
  const typed = garbage(leaf.param).slice(0, -3);
  return leaf.param.type === 'integer' ? typed : typed.slice(0, 2);
}
// the other required parameters, plausibly filled, so that garbage reaches the handler
function withRequired(rt, except, pairs) {
  const extra = [];
  for (const p of rt.params) {
    if (!p.required || p.name === except) continue;
    const v = plausible(p);
    if (v !== undefined) extra.push([p.name, v]);
  }
  return [...extra, ...pairs];
}

// ---- the tests ----------------------------------------------------------------------------

test('tender routes lists the server\'s routes with their flags and parameters', () => {
  assert.ok(routes.length > 300, `only ${routes.length} routes`);
  for (const rt of routes) {
    assert.ok(['GET', 'POST', 'DELETE'].includes(rt.method), rt.method);
    assert.ok(rt.pattern.startsWith('/'), rt.pattern);
    assert.ok(Array.isArray(rt.flags) && Array.isArray(rt.params));
  }
  const health = routes.find((r) => r.pattern === '/healthz');
  assert.ok(health && health.flags.includes('no_auth'));
  const create = routes.find((r) => r.method === 'POST' && r.pattern === '/v1/customers');
  assert.ok(create.params.some((p) => p.name === 'email' && p.type === 'string'));
  assert.ok(routes.find((r) => r.method === 'GET' && r.pattern === '/v1/customers').flags.includes('list'));
  assert.ok(Object.keys(ids).length > 30, `seeded only ${Object.keys(ids).join(', ')}`);
});

// An object as compared before and after B's pass: a payout's and a top-up's status (and the
// fields that come with it) move by themselves, the scheduler pays a payout at its arrival date
// and settles a top-up at its expected availability, a couple of seconds after they are made
const SCHEDULER_MOVES = ['status', 'balance_transaction', 'failure_balance_transaction', 'failure_code', 'failure_message', 'reconciliation_status'];
function settled(path, body) {
  if (!/^\/v1\/(payouts|topups)\//.test(path)) return body;
  const o = JSON.parse(body);
  for (const k of SCHEDULER_MOVES) delete o[k];
  return JSON.stringify(o);
}

test('merchant B\'s key never reads or changes merchant A\'s objects', async () => {
  const B = env.merchants[1].secret_key;
  // A's objects as A reads them (every GET of one object that A's key answers with 200)
  const gets = routes.filter((rt) => isApi(rt) && rt.method === 'GET' && !rt.flags.includes('list'));
  await pool(gets, async (rt) => {
    const { path, mapped } = fillPath(rt.pattern, idFor);
    if (!mapped) return;
    const res = await send(rt, path, []);
    if (res.status === 200 && res.json && res.json.id) snapshots.push({ path, body: res.body });
  });
  assert.ok(snapshots.length > 30, `only ${snapshots.length} objects read back`);

  const leaks = [];
  const notFound = [];
  const targets = routes.filter((rt) => isApi(rt) && /\{/.test(rt.pattern));
  await pool(targets, async (rt) => {
    const { path, mapped } = fillPath(rt.pattern, idFor);
    if (!mapped) return;
    // the route's required parameters filled, so that its handler reaches the object
    const pairs = withRequired(rt, '', rt.method === 'POST' && rt.params.some((p) => p.name === 'metadata') ? [['metadata[by]', 'b']] : []);
    // B's publishable key too, where one may call the route (a PaymentIntent's retrieve
    // with its client secret, …)
    if (rt.flags.includes('publishable')) {
      const pub = await send(rt, path, pairs, env.merchants[1].publishable_key);
      checkAnswer(rt, path, 'with merchant B\'s publishable key', pub);
      if (pub.status < 400) leaks.push(`${rt.method} ${path} (publishable): ${pub.status} ${pub.body.slice(0, 200)}`);
    }
    // A's connected account (A's key with Stripe-Account) is a merchant of its own too: it
    // never reaches its platform's objects. (Routes on the account itself, /v1/accounts/{id}…,
    // are the account's own: left to merchant B's pass.)
    if (ids.accounts && !rt.pattern.startsWith('/v1/accounts/')) {
      const ca = await send(rt, path, pairs, env.merchant.secret_key, { 'Stripe-Account': ids.accounts });
      checkAnswer(rt, path, 'as A\'s connected account', ca);
      if (ca.status < 400) leaks.push(`${rt.method} ${path} (A's connected account): ${ca.status} ${ca.body.slice(0, 200)}`);
    }
    const res = await send(rt, path, pairs, B);
    checkAnswer(rt, path, 'as merchant B', res);
    if (res.status < 400) leaks.push(`${rt.method} ${path}: ${res.status} ${res.body.slice(0, 200)}`);
    // a read or delete of A's object: Stripe's 404 resource_missing, as for an unknown id
    // (GET …/owners takes a required `ownership` its handler checks first, as Stripe does)
    else if (rt.method !== 'POST' && !rt.params.some((p) => p.required) && !rt.pattern.endsWith('/owners') &&
      (res.status !== 404 || res.json.error.code !== 'resource_missing')) notFound.push(`${rt.method} ${rt.pattern}: ${res.status} ${res.body.slice(0, 160)}`);
  });
  // B's requests naming A's objects in their parameters (customer=cus_… of A's, list
  // filters, items[0][price], …), on B's collections and B's own objects: refused, or
  // answered without any of A's objects
  const aIds = Object.values(ids).filter((v) => typeof v === 'string' && v.includes('_'));
  const Bc = env.stripe(B);
  idsB.customers = (await Bc.customers.create({ email: 'b@example.com' })).id;
  idsB.products = (await Bc.products.create({ name: 'B' })).id;
  idsB.payment_intents = (await Bc.paymentIntents.create({ amount: 1000, currency: 'usd' })).id;
  idsB.setup_intents = (await Bc.setupIntents.create({})).id;
  idsB.invoices = (await Bc.invoices.create({ customer: idsB.customers, auto_advance: false })).id;
  idsB.prices = (await Bc.prices.create({ product: idsB.products, currency: 'usd', unit_amount: 500 })).id;
  const refs = [];
  for (const rt of routes.filter(isApi)) {
    const { path, mapped } = fillPath(rt.pattern, (segs, i) => idFor(segs, i, idsB));
    const params = (rt.pattern.match(/\{/g) || []).length;
    if (mapped !== params) continue;
    for (const p of rt.params) {
      const leaves = p.children ? nestedLeaves(p) : [{ key: p.name, param: p, around: [] }];
      for (const leaf of leaves) {
        const last = (/([A-Za-z0-9_]+)\]?$/.exec(leaf.key) || [])[1];
        // company[tax_id] is a company's tax number (an EIN), not a txi_ object
        if (leaf.key === 'company[tax_id]') continue;
        const v = ['string', 'array'].includes(leaf.param.type) && refName[last] && ids[refName[last]];
        const key = leaf.param.type === 'array' ? `${leaf.key}[0]` : leaf.key;
        if (v) refs.push({ rt, path, pairs: withRequired(rt, p.name, [...leaf.around, [key, v]]) });
      }
    }
  }
  await pool(refs, async ({ rt, path, pairs }) => {
    const res = await send(rt, path, pairs, B);
    checkAnswer(rt, path, `as merchant B, ${form(pairs)}`, res);
    if (res.status < 400 && aIds.some((id) => res.body.includes(id))) {
      leaks.push(`${rt.method} ${path} ${form(pairs)}: ${res.status} ${res.body.slice(0, 200)}`);
    }
  });
  assert.ok(refs.length > 100, `only ${refs.length} requests naming A's objects`);
  // B's searches for what A's objects hold: none of them
  const searches = routes.filter((rt) => isApi(rt) && rt.pattern.endsWith('/search'));
  assert.ok(searches.length >= 5);
  // (the same query finds A's customer with A's key: the search does look)
  const own = await A.customers.search({ query: "metadata['k']:'v'" });
  assert.ok(own.data.some((c) => c.id === ids.customers));
  for (const rt of searches) {
    for (const q of ["created>0", "metadata['k']:'v'", "email:'sweep@example.com'", "status:'succeeded'", "active:'true'"]) {
      const res = await send(rt, rt.pattern, [['query', q]], B);
      checkAnswer(rt, rt.pattern, `as merchant B, query ${q}`, res);
      if (res.status < 400 && aIds.some((id) => res.body.includes(id))) leaks.push(`${rt.pattern}?query=${q}: ${res.body.slice(0, 200)}`);
    }
  }
  // B's key acting as merchant A, or as A's connected account (Stripe-Account): 403
  for (const acct of [env.merchant.id, ids.accounts]) {
    const res = await request({ port: env.port, path: `/v1/customers/${ids.customers}`, key: B, headers: { 'Stripe-Account': acct } });
    if (res.status !== 403 || !res.json || res.json.error.code !== 'account_invalid') leaks.push(`Stripe-Account ${acct}: ${res.status} ${res.body.slice(0, 200)}`);
  }
  // an ephemeral key of another of A's customers (a mobile app's): the routes it may call
  // refuse A's first customer's objects
  const other = await A.customers.create({ email: 'other@example.com' });
  const ek = await A.ephemeralKeys.create({ customer: other.id }, { apiVersion: '2024-06-20' });
  await pool(routes.filter((rt) => rt.flags.includes('ephemeral') && /\{/.test(rt.pattern)), async (rt) => {
    const { path, mapped } = fillPath(rt.pattern, idFor);
    if (!mapped) return;
    const res = await send(rt, path, withRequired(rt, '', []), ek.secret);
    checkAnswer(rt, path, 'with another customer\'s ephemeral key', res);
    if (res.status < 400) leaks.push(`${rt.method} ${path} (ephemeral key of ${other.id}): ${res.status} ${res.body.slice(0, 200)}`);
  });
  assert.deepEqual(leaks, [], 'merchant B reached merchant A\'s objects');
  assert.deepEqual(notFound, [], 'merchant B\'s reads of merchant A\'s objects are not 404 resource_missing');

  const changed = [];
  await pool(snapshots, async (snap) => {
    const res = await request({ port: env.port, path: snap.path, key: env.merchant.secret_key });
    if (settled(snap.path, res.body) !== settled(snap.path, snap.body)) changed.push(`${snap.path}:\n  before ${snap.body.slice(0, 400)}\n  after  ${res.body.slice(0, 400)}`);
  });
  assert.deepEqual(changed, [], 'merchant A\'s objects changed while merchant B tried them');
  assert.deepEqual(findings.splice(0), []);
});

test('keys: none, malformed, or publishable on a secret-only route: Stripe\'s 401 / 403', async () => {
  const pk = env.merchant.publishable_key;
  const bad = [];
  const api = routes.filter(isApi);
  await pool(api, async (rt) => {
    const { path } = fillPath(rt.pattern, idFor);
    const none = await send(rt, path, [], null);
    if (none.status !== 401 || !none.json || !none.json.error) bad.push(`no key: ${rt.method} ${path} ${none.status}`);
    const mal = await send(rt, path, [], 'sk_test_malformed');
    if (mal.status !== 401 || !mal.json || !mal.json.error) bad.push(`malformed key: ${rt.method} ${path} ${mal.status}`);
    const basic = await send(rt, path, [], null, { Authorization: 'Basic !!!notbase64' });
    if (basic.status !== 401 || !basic.json || !basic.json.error) bad.push(`garbage Basic: ${rt.method} ${path} ${basic.status}`);
    if (!rt.flags.includes('publishable')) {
      const pub = await send(rt, path, [], pk);
      // Stripe: 403 (a PermissionError in the SDKs), "This API call cannot be made with a
      // publishable API key"
      if (pub.status !== 403 || !pub.json || !pub.json.error) bad.push(`publishable: ${rt.method} ${path} ${pub.status}`);
    }
  });
  assert.deepEqual(bad, []);
});

test('an unknown parameter is a 400 parameter_unknown naming it, on every /v1 route', async () => {
  const bad = [];
  await pool(routes.filter(isApi), async (rt) => {
    const { path } = fillPath(rt.pattern, idFor);
    const res = await send(rt, path, [['zz_unknown', '1']]);
    checkAnswer(rt, path, 'zz_unknown=1', res);
    const e = res.json && res.json.error;
    if (res.status !== 400 || !e || e.code !== 'parameter_unknown' || e.param !== 'zz_unknown') {
      bad.push(`${rt.method} ${rt.pattern}: ${res.status} ${res.body.slice(0, 200)}`);
    }
  });
  assert.deepEqual(bad, []);
  assert.deepEqual(findings.splice(0), []);
});

test('no parameters and garbage parameters: never a 5xx, always Stripe-shaped, the server stays up', async () => {
  let sent = 0;
  await pool(routes.filter(isApi), async (rt) => {
    const { path } = fillPath(rt.pattern, idFor);
    const cases = [[], [['expand[]', 'nope']], [['expand[0]', 'a'.repeat(300)]], [[`zz${DEEP}`, '1']], [['amount', 'abc']], [['amount[x]', '1']]];
    for (const p of rt.params) {
      for (const g of garbage(p)) cases.push(withRequired(rt, p.name, g));
      for (const leaf of nestedLeaves(p)) {
        for (const g of nestedGarbage(leaf)) cases.push(withRequired(rt, p.name, [...leaf.around, ...g]));
      }
    }
    for (const pairs of cases) {
      checkAnswer(rt, path, form(pairs).slice(0, 120), await send(rt, path, pairs));
      sent++;
    }
    // the same route on an unknown id of each parameter, and on ids that are garbage
    if (/\{/.test(rt.pattern)) {
      for (const bad of [UNKNOWN, 'x'.repeat(300), PANS[2], '\u00e9\ud83d\ude00', '..', ' ', 'a%00b']) {
        const unk = rt.pattern.split('/').map((seg) => (/^\{.*\}$/.test(seg) ? (bad === 'a%00b' ? bad : encodeURIComponent(bad)) : seg)).join('/');
        checkAnswer(rt, unk, `id ${bad.slice(0, 20)}`, await send(rt, unk, []));
      }
    }
    // headers with garbage: Stripe-Version, an over-long Idempotency-Key, Stripe-Account
    for (const h of [{ 'Stripe-Version': 'garbage' }, { 'Stripe-Version': '2020-08-27' }, { 'Idempotency-Key': 'k'.repeat(300) },
      { 'Stripe-Account': 'acct_zz' }, { 'Stripe-Account': PANS[0] }, { 'Stripe-Account': 'x'.repeat(300) }]) {
      checkAnswer(rt, path, `header ${JSON.stringify(h).slice(0, 60)}`, await send(rt, path, [], env.merchant.secret_key, h));
    }
    // bodies and query strings that are not well-formed forms
    for (const raw of RAW_FORMS) {
      const res = rt.method === 'POST'
        ? await request({ port: env.port, method: 'POST', path, body: raw, key: env.merchant.secret_key })
        : await request({ port: env.port, method: rt.method, path: `${path}?${raw}`, key: env.merchant.secret_key });
      checkAnswer(rt, path, `raw ${raw.slice(0, 40)}`, res);
    }
    if (rt.method === 'POST') {
      const json = await request({ port: env.port, method: 'POST', path, body: '{"amount":1}', key: env.merchant.secret_key, headers: { 'Content-Type': 'application/json' } });
      checkAnswer(rt, path, 'a JSON body', json);
      const idem = { 'Idempotency-Key': `sweep-${rt.pattern}` };
      for (const pairs of [[['zz', '1']], [['expand[]', 'nope']], [['zz', '1']]]) {
        checkAnswer(rt, path, `idempotent ${form(pairs)}`, await send(rt, path, pairs, env.merchant.secret_key, idem));
      }
    }
    await healthy();
  });
  assert.ok(sent > 2000, `only ${sent} requests`);
  process.stderr.write(`api_sweep: ${sent} garbage requests; statuses so far ${JSON.stringify(statuses)}\n`);
  assert.deepEqual(findings.splice(0), []);
});

test('pages (no key, raw): garbage paths and bodies, never a 5xx, the server stays up', async () => {
  const pages = routes.filter((rt) => !isApi(rt));
  const values = [() => env.merchant.id, () => UNKNOWN, () => 'x'.repeat(400), () => '%00', () => '..', () => PANS[0]];
  await pool(pages, async (rt) => {
    for (const v of values) {
      const path = rt.pattern.split('/').map((seg) => (/^\{.*\}$/.test(seg) ? (v() === '%00' ? '%00' : encodeURIComponent(v())) : seg)).join('/');
      for (const body of [null, 'a=1', `${DEEP.slice(1)}=1`, `card[number]=${PANS[2]}&card[cvc]=123`, `%zz&${LONG}`]) {
        const res = await request({ port: env.port, method: rt.method, path, body: rt.method === 'POST' ? body || '' : null });
        checkAnswer(rt, path, `body ${String(body).slice(0, 40)}`, res);
      }
    }
    await healthy();
  });
  assert.deepEqual(findings.splice(0), []);
});

test('pages: merchant A\'s page URLs under merchant B\'s account are not found', async () => {
  const base = `http://127.0.0.1:${env.port}/`;
  const urls = new Set();
  for (const o of seeded) {
    for (const m of JSON.stringify(o).matchAll(/"(http:\/\/127\.0\.0\.1:\d+\/[^"]+)"/g)) {
      if (m[1].startsWith(base) && m[1].includes(`/${env.merchant.id}/`) && !m[1].includes('/v1/')) urls.add(m[1]);
    }
  }
  assert.ok(urls.size >= 3, `only ${[...urls].join(' ')}`);
  const bad = [];
  for (const u of urls) {
    const p = u.slice(base.length - 1);
    const own = await request({ port: env.port, path: p });
    assert.ok(own.status < 500, `${p}: ${own.status}`);
    const other = await request({ port: env.port, path: p.replace(`/${env.merchant.id}/`, `/${env.merchants[1].id}/`) });
    if (other.status < 400 || other.status >= 500) bad.push(`${p} as merchant B: ${other.status} (merchant A: ${own.status})`);
  }
  assert.deepEqual(bad, []);
  // A's real pages and their form actions, posted garbage: never a 5xx
  const posts = [];
  for (const u of urls) {
    const p = u.slice(base.length - 1).split('?')[0];
    for (const sub of PAGE_ACTIONS) {
      for (const body of PAGE_BODIES) posts.push({ path: p + sub, body });
    }
  }
  await pool(posts, async ({ path, body }) => {
    const res = await request({ port: env.port, method: 'POST', path, body });
    if (res.status >= 500) findings.push(`POST ${path} ${body.slice(0, 80)}: ${res.status} ${res.body.slice(0, 200)}`);
  });
  await healthy();
  assert.deepEqual(findings.splice(0), []);
});

test('afterwards: money is conserved (tender verify) and the log holds no card number', async () => {
  await healthy();
  const out = tender(['verify', '--data', env.dataDir]);
  assert.match(out, /verify: ok/);
  const log = fs.readFileSync(env.server.logPath, 'utf8');
  for (const pan of PANS) assert.ok(!log.includes(pan), `the server log holds ${pan}`);
});
