'use strict';
// Billing meters through stripe-node: meters (create with defaults and with payload key
// overrides, retrieve, update of display_name, list with status, deactivate / reactivate, the
// event name one meter's own, billing.meter.* events), meter events (recorded against the active
// meter of their event_name, an identifier counted once, timestamps within 35 days back and 5
// minutes ahead, whole-number values, the payload's customer the merchant's own), cancellation
// by an adjustment, and event summaries (one for the range, or by hour / day, newest first,
// paged by cursors) for the sum, count and last formulas. Billing alerts on a meter (create,
// list, activate / deactivate / archive, refusals; one_time usage thresholds fired once per
// customer by the usage report that reaches them, a customer filter, inactive and archived
// alerts silent; their running usage with backdated, canceled and re-activated reports). Another merchant sees none of it.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { startTender, stopAll, SHARED } = require('./helpers');

let env;
let stripe;
let other;
const HOUR = 3600;
const DAY = 86400;

// The reference spec (2023-08-16) predates billing meters: each object is checked against
// today's fixture of it (every field, no other, and the fixture's types).
const FIXTURES = JSON.parse(fs.readFileSync(
  path.join(SHARED, 'reference/stripe-openapi/fixtures3.head-2026-08-21.json'), 'utf8'));
function assertShape(obj, name) {
  const want = (FIXTURES.resources || FIXTURES)[name];
  assert.ok(want, `no fixture ${name}`);
  const got = { ...obj };
  delete got.lastResponse;
  assert.deepEqual(Object.keys(got).sort(), Object.keys(want).sort(), `${name} fields`);
  for (const k of Object.keys(want)) {
    if (want[k] === null || got[k] === null) continue;
    assert.equal(typeof got[k], typeof want[k], `${name}.${k}`);
  }
}

async function rejects(p, status, param, re) {
  await assert.rejects(p, (e) => {
    assert.equal(e.statusCode, status, e.message);
    if (param !== undefined) assert.equal(e.param, param, e.message);
    if (re) assert.match(e.message, re);
    return true;
  });
}

before(async () => {
  env = await startTender({ merchants: 2, args: ['--rate-limit', '0'] });
  stripe = env.stripe();
  other = env.stripe(env.merchants[1].secret_key);
});
after(stopAll);

test('meters: create, retrieve, update, list, deactivate and reactivate, with their events',
  async () => {
    const m = await stripe.billing.meters.create({
      display_name: 'API requests',
      event_name: 'api_requests',
      default_aggregation: { formula: 'sum' },
    });
    assertShape(m, 'billing.meter');
    assert.match(m.id, /^mtr_/);
    assert.equal(m.object, 'billing.meter');
    assert.deepEqual(m.customer_mapping, { event_payload_key: 'stripe_customer_id', type: 'by_id' });
    assert.deepEqual(m.value_settings, { event_payload_key: 'value' });
    assert.deepEqual(m.default_aggregation, { formula: 'sum' });
    assert.equal(m.status, 'active');
    assert.equal(m.status_transitions.deactivated_at, null);
    assert.equal(m.event_time_window, null);

    const o = await stripe.billing.meters.create({
      display_name: 'Tokens',
      event_name: 'tokens',
      default_aggregation: { formula: 'last' },
      customer_mapping: { event_payload_key: 'account', type: 'by_id' },
      value_settings: { event_payload_key: 'n' },
      event_time_window: 'hour',
    });
    assert.equal(o.customer_mapping.event_payload_key, 'account');
    assert.equal(o.value_settings.event_payload_key, 'n');
    assert.equal(o.event_time_window, 'hour');

    // one meter per event name, even an inactive one's
    await rejects(stripe.billing.meters.create({
      display_name: 'again', event_name: 'api_requests', default_aggregation: { formula: 'count' },
    }), 400, 'event_name', /already exists/);
    await rejects(stripe.billing.meters.create({
      display_name: 'x', event_name: 'x1', default_aggregation: { formula: 'max' },
    }), 400, 'default_aggregation[formula]');
    await rejects(stripe.billing.meters.create({ display_name: 'x', event_name: 'x2' }),
      400, 'default_aggregation');

    assert.deepEqual(await stripe.billing.meters.retrieve(m.id).then((x) => x.id), m.id);
    const u = await stripe.billing.meters.update(m.id, { display_name: 'API calls' });
    assert.equal(u.display_name, 'API calls');
    assert.equal(u.event_name, 'api_requests');
    await rejects(stripe.billing.meters.update(m.id, { event_name: 'other' }), 400,
      'event_name');

    const d = await stripe.billing.meters.deactivate(o.id);
    assert.equal(d.status, 'inactive');
    assert.ok(d.status_transitions.deactivated_at > 0);
    await rejects(stripe.billing.meters.deactivate(o.id), 400);
    const listed = await stripe.billing.meters.list({ status: 'inactive' });
    assert.deepEqual(listed.data.map((x) => x.id), [o.id]);
    const active = await stripe.billing.meters.list({ status: 'active' });
    assert.ok(active.data.some((x) => x.id === m.id));
    assert.ok(!active.data.some((x) => x.id === o.id));
    const all = await stripe.billing.meters.list({ limit: 1 });
    assert.equal(all.data.length, 1);
    assert.equal(all.has_more, true);
    assert.equal(all.data[0].id, o.id); // newest first
    const r = await stripe.billing.meters.reactivate(o.id);
    assert.equal(r.status, 'active');
    assert.equal(r.status_transitions.deactivated_at, null);

    const events = await stripe.events.list({ limit: 10 });
    const mine = events.data.filter((e) => e.type.startsWith('billing.meter.'));
    assert.deepEqual(mine.map((e) => e.type), [
      'billing.meter.reactivated', 'billing.meter.deactivated', 'billing.meter.updated',
      'billing.meter.created', 'billing.meter.created',
    ]);
    const upd = mine.find((e) => e.type === 'billing.meter.updated');
    assert.deepEqual(upd.data.previous_attributes, { display_name: 'API requests' });
    assert.equal(upd.data.object.display_name, 'API calls');

    // another merchant sees none of them
    await rejects(other.billing.meters.retrieve(m.id), 404);
    assert.equal((await other.billing.meters.list()).data.length, 0);
  });

test('meter events: recorded once per identifier, checked, canceled by an adjustment, and summed',
  async () => {
    const cus = await stripe.customers.create({ email: 'usage@example.com' });
    const m = await stripe.billing.meters.create({
      display_name: 'Calls', event_name: 'calls', default_aggregation: { formula: 'sum' },
    });
    const now = Math.floor(Date.now() / 1000);
    const h0 = Math.floor(now / HOUR) * HOUR - 5 * HOUR; // five hours ago, on the hour

    const e1 = await stripe.billing.meterEvents.create({
      event_name: 'calls',
      payload: { stripe_customer_id: cus.id, value: '25', region: 'eu' },
      identifier: 'call-1',
      timestamp: h0 + 60,
    });
    assertShape(e1, 'billing.meter_event');
    assert.equal(e1.identifier, 'call-1');
    assert.equal(e1.timestamp, h0 + 60);
    assert.deepEqual(e1.payload, { stripe_customer_id: cus.id, value: '25', region: 'eu' });

    // the same identifier again is refused and counts nothing
    await rejects(stripe.billing.meterEvents.create({
      event_name: 'calls', payload: { stripe_customer_id: cus.id, value: '1000' },
      identifier: 'call-1',
    }), 400, 'identifier', /already exists/);
    // a retry of the same request (an Idempotency-Key) replays the first answer
    const key = `ik-${Date.now()}`;
    const a = await stripe.billing.meterEvents.create({
      event_name: 'calls', payload: { stripe_customer_id: cus.id, value: '5' },
      timestamp: h0 + HOUR + 10,
    }, { idempotencyKey: key });
    const b = await stripe.billing.meterEvents.create({
      event_name: 'calls', payload: { stripe_customer_id: cus.id, value: '5' },
      timestamp: h0 + HOUR + 10,
    }, { idempotencyKey: key });
    assert.equal(a.identifier, b.identifier);
    assert.ok(a.identifier.length >= 20); // made by Tender when not given

    await stripe.billing.meterEvents.create({
      event_name: 'calls', payload: { stripe_customer_id: cus.id, value: '-3' },
      identifier: 'call-3', timestamp: h0 + HOUR + 20,
    });
    await stripe.billing.meterEvents.create({
      event_name: 'calls', payload: { stripe_customer_id: cus.id, value: '100' },
      identifier: 'call-4', timestamp: h0 + 3 * HOUR,
    });

    // refusals
    await rejects(stripe.billing.meterEvents.create({
      event_name: 'nothing', payload: { stripe_customer_id: cus.id, value: '1' },
    }), 400, 'event_name', /No active meter/);
    await rejects(stripe.billing.meterEvents.create({
      event_name: 'calls', payload: { stripe_customer_id: cus.id, value: '2.5' },
    }), 400, 'payload', /whole number/);
    await rejects(stripe.billing.meterEvents.create({
      event_name: 'calls', payload: { value: '2' },
    }), 400, 'payload');
    await rejects(stripe.billing.meterEvents.create({
      event_name: 'calls', payload: { stripe_customer_id: cus.id },
    }), 400, 'payload');
    await rejects(stripe.billing.meterEvents.create({
      event_name: 'calls', payload: { stripe_customer_id: 'cus_nobody', value: '1' },
    }), 404, undefined, /No such customer/);
    await rejects(stripe.billing.meterEvents.create({
      event_name: 'calls', payload: { stripe_customer_id: cus.id, value: '1' },
      timestamp: now - 36 * DAY,
    }), 400, 'timestamp', /35 calendar days/);
    await rejects(stripe.billing.meterEvents.create({
      event_name: 'calls', payload: { stripe_customer_id: cus.id, value: '1' },
      timestamp: now + 3600,
    }), 400, 'timestamp');
    // another merchant's customer is not this merchant's
    await rejects(other.billing.meterEvents.create({
      event_name: 'calls', payload: { stripe_customer_id: cus.id, value: '1' },
    }), 400, 'event_name');

    // one summary for the whole range: 25 + 5 - 3 + 100
    const range = { customer: cus.id, start_time: h0, end_time: h0 + 5 * HOUR };
    let s = await stripe.billing.meters.listEventSummaries(m.id, range);
    assert.equal(s.data.length, 1);
    assertShape(s.data[0], 'billing.meter_event_summary');
    assert.equal(s.data[0].aggregated_value, 127);
    assert.equal(s.data[0].start_time, h0);
    assert.equal(s.data[0].end_time, h0 + 5 * HOUR);
    assert.equal(s.data[0].meter, m.id);

    // by hour: only the hours with events, newest first
    s = await stripe.billing.meters.listEventSummaries(m.id,
      { ...range, value_grouping_window: 'hour' });
    assert.deepEqual(s.data.map((x) => [x.start_time - h0, x.end_time - h0, x.aggregated_value]),
      [[3 * HOUR, 4 * HOUR, 100], [HOUR, 2 * HOUR, 2], [0, HOUR, 25]]);
    // paged by cursors, both ways
    const p1 = await stripe.billing.meters.listEventSummaries(m.id,
      { ...range, value_grouping_window: 'hour', limit: 2 });
    assert.equal(p1.has_more, true);
    const p2 = await stripe.billing.meters.listEventSummaries(m.id,
      { ...range, value_grouping_window: 'hour', limit: 2, starting_after: p1.data[1].id });
    assert.deepEqual(p2.data.map((x) => x.aggregated_value), [25]);
    assert.equal(p2.has_more, false);
    const back = await stripe.billing.meters.listEventSummaries(m.id,
      { ...range, value_grouping_window: 'hour', limit: 1, ending_before: p2.data[0].id });
    assert.deepEqual(back.data.map((x) => x.aggregated_value), [2]);
    assert.equal(back.has_more, true);
    // the SDK's auto-pagination walks every window
    const seen = [];
    for await (const x of stripe.billing.meters.listEventSummaries(m.id,
      { ...range, value_grouping_window: 'hour', limit: 1 })) seen.push(x.aggregated_value);
    assert.deepEqual(seen, [100, 2, 25]);

    // alignment of the range
    await rejects(stripe.billing.meters.listEventSummaries(m.id,
      { customer: cus.id, start_time: h0 + 30, end_time: h0 + HOUR }), 400, 'start_time');
    await rejects(stripe.billing.meters.listEventSummaries(m.id,
      { customer: cus.id, start_time: h0 + 60, end_time: h0 + HOUR, value_grouping_window: 'hour' }),
    400, 'start_time');
    await rejects(stripe.billing.meters.listEventSummaries(m.id,
      { customer: cus.id, start_time: h0, end_time: h0 }), 400, 'end_time');

    // an adjustment cancels one event, once, and the summary no longer counts it
    const adj = await stripe.billing.meterEventAdjustments.create({
      event_name: 'calls', type: 'cancel', cancel: { identifier: 'call-4' },
    });
    assertShape(adj, 'billing.meter_event_adjustment');
    assert.equal(adj.status, 'complete');
    assert.deepEqual(adj.cancel, { identifier: 'call-4' });
    await rejects(stripe.billing.meterEventAdjustments.create({
      event_name: 'calls', type: 'cancel', cancel: { identifier: 'call-4' },
    }), 400, 'cancel[identifier]', /already been canceled/);
    await rejects(stripe.billing.meterEventAdjustments.create({
      event_name: 'calls', type: 'cancel', cancel: { identifier: 'call-nope' },
    }), 400, 'cancel[identifier]');
    await rejects(stripe.billing.meterEventAdjustments.create({
      event_name: 'tokens', type: 'cancel', cancel: { identifier: 'call-1' },
    }), 400, 'cancel[identifier]');
    s = await stripe.billing.meters.listEventSummaries(m.id, range);
    assert.equal(s.data[0].aggregated_value, 27);

    // by day: the UTC day of the events
    const d0 = Math.floor(h0 / DAY) * DAY;
    s = await stripe.billing.meters.listEventSummaries(m.id, {
      customer: cus.id, start_time: d0 - DAY, end_time: d0 + 2 * DAY, value_grouping_window: 'day',
    });
    const total = s.data.reduce((t, x) => t + x.aggregated_value, 0);
    assert.equal(total, 27);
    for (const x of s.data) assert.equal(x.end_time - x.start_time, DAY);

    // a deactivated meter takes no events, and its usage stays readable
    await stripe.billing.meters.deactivate(m.id);
    await rejects(stripe.billing.meterEvents.create({
      event_name: 'calls', payload: { stripe_customer_id: cus.id, value: '1' },
    }), 400, 'event_name', /No active meter/);
    s = await stripe.billing.meters.listEventSummaries(m.id, range);
    assert.equal(s.data[0].aggregated_value, 27);
    await stripe.billing.meters.reactivate(m.id);

    // another merchant cannot read the usage
    await rejects(other.billing.meters.listEventSummaries(m.id, range), 404);
  });

test('count and last formulas, and payload key overrides', async () => {
  const cus = await stripe.customers.create({ email: 'count@example.com' });
  const cm = await stripe.billing.meters.create({
    display_name: 'Logins', event_name: 'logins', default_aggregation: { formula: 'count' },
    customer_mapping: { event_payload_key: 'who', type: 'by_id' },
  });
  const lm = await stripe.billing.meters.create({
    display_name: 'Seats', event_name: 'seats', default_aggregation: { formula: 'last' },
    value_settings: { event_payload_key: 'seats' },
  });
  const now = Math.floor(Date.now() / 1000);
  const start = Math.floor(now / 60) * 60 - 10 * 60;
  // a count meter's events need no value
  for (let i = 0; i < 3; i++) {
    await stripe.billing.meterEvents.create({
      event_name: 'logins', payload: { who: cus.id }, timestamp: start + 60 * i,
    });
  }
  await rejects(stripe.billing.meterEvents.create({
    event_name: 'logins', payload: { stripe_customer_id: cus.id },
  }), 400, 'payload', /who/);
  // last: the latest by timestamp, whatever order they were sent in
  await stripe.billing.meterEvents.create({
    event_name: 'seats', payload: { stripe_customer_id: cus.id, seats: '7' }, timestamp: start + 120,
  });
  await stripe.billing.meterEvents.create({
    event_name: 'seats', payload: { stripe_customer_id: cus.id, seats: '4' }, timestamp: start + 60,
  });
  const range = { customer: cus.id, start_time: start, end_time: start + 11 * 60 };
  const c = await stripe.billing.meters.listEventSummaries(cm.id, range);
  assert.equal(c.data[0].aggregated_value, 3);
  const l = await stripe.billing.meters.listEventSummaries(lm.id, range);
  assert.equal(l.data[0].aggregated_value, 7);
  // a range with no events is one summary of 0
  const empty = await stripe.billing.meters.listEventSummaries(lm.id,
    { customer: cus.id, start_time: start - 3600, end_time: start - 60 });
  assert.equal(empty.data.length, 1);
  assert.equal(empty.data[0].aggregated_value, 0);
});

// ---- billing alerts (usage thresholds on a meter) ----
// stripe-node's Billing/Alerts.d.ts and AlertTriggereds.d.ts: every field, null where none.
function alertWant(a, { status = 'active', customer = null } = {}) {
  return {
    id: a.id,
    object: 'billing.alert',
    alert_type: 'usage_threshold',
    livemode: false,
    status,
    title: a.title,
    usage_threshold: {
      filters: customer ? [{ customer, type: 'customer' }] : null,
      gte: a.usage_threshold.gte,
      meter: a.usage_threshold.meter,
      recurrence: 'one_time',
    },
  };
}
function plain(o) {
  const c = { ...o };
  delete c.lastResponse;
  return c;
}
async function triggered(meter) {
  const evs = await stripe.events.list({ type: 'billing.alert.triggered', limit: 100 });
  return evs.data.filter((e) => e.data.object.alert.usage_threshold.meter === meter);
}
function usage(event_name, customer, value, extra = {}) {
  return stripe.billing.meterEvents.create({
    event_name, payload: { stripe_customer_id: customer, value: String(value) }, ...extra,
  });
}

test('billing alerts: create, retrieve, list, activate / deactivate / archive, refusals',
  async () => {
    const m = await stripe.billing.meters.create({
      display_name: 'Alerted', event_name: 'alerted', default_aggregation: { formula: 'sum' },
    });
    const cus = await stripe.customers.create({ email: 'alerted@example.com' });
    const a = await stripe.billing.alerts.create({
      alert_type: 'usage_threshold', title: 'Over 100',
      usage_threshold: { meter: m.id, gte: 100, recurrence: 'one_time' },
    });
    assert.match(a.id, /^alrt_/);
    assertShape(a, 'billing.alert');
    assert.deepEqual(plain(a), alertWant({ id: a.id, title: 'Over 100',
      usage_threshold: { gte: 100, meter: m.id } }));
    const f = await stripe.billing.alerts.create({
      alert_type: 'usage_threshold', title: 'One customer',
      usage_threshold: { meter: m.id, gte: 5, recurrence: 'one_time',
        filters: [{ type: 'customer', customer: cus.id }] },
    });
    assert.deepEqual(plain(f), alertWant(f, { customer: cus.id }));
    assert.deepEqual(plain(await stripe.billing.alerts.retrieve(f.id)), plain(f));

    // listed newest first, by meter; alert_type filters none out
    let l = await stripe.billing.alerts.list({ meter: m.id });
    assert.deepEqual(l.data.map((x) => x.id), [f.id, a.id]);
    assert.equal(l.url, '/v1/billing/alerts');
    l = await stripe.billing.alerts.list({ meter: m.id, alert_type: 'usage_threshold', limit: 1 });
    assert.deepEqual([l.data.map((x) => x.id), l.has_more], [[f.id], true]);
    assert.equal((await stripe.billing.alerts.list({ meter: 'mtr_none' })).data.length, 0);

    // statuses: active <-> inactive, archived for good (and off the list)
    assert.equal((await stripe.billing.alerts.deactivate(a.id)).status, 'inactive');
    await rejects(stripe.billing.alerts.deactivate(a.id), 400, undefined, /already inactive/);
    assert.deepEqual(plain(await stripe.billing.alerts.activate(a.id)), plain(a));
    await rejects(stripe.billing.alerts.activate(a.id), 400, undefined, /already active/);
    const ar = await stripe.billing.alerts.archive(a.id);
    assert.deepEqual(plain(ar), alertWant(a, { status: 'archived' }));
    for (const op of ['activate', 'deactivate', 'archive'])
      await rejects(stripe.billing.alerts[op](a.id), 400, undefined, /archived/);
    assert.equal((await stripe.billing.alerts.retrieve(a.id)).status, 'archived');
    assert.deepEqual((await stripe.billing.alerts.list({ meter: m.id })).data.map((x) => x.id),
      [f.id]);
    // Stripe sends no events for the alert object itself
    assert.equal((await stripe.events.list({ limit: 20 })).data
      .filter((e) => e.type.startsWith('billing.alert')).length, 0);

    // refusals change nothing
    const ut = { meter: m.id, gte: 10, recurrence: 'one_time' };
    const base = { alert_type: 'usage_threshold', title: 'x' };
    await rejects(stripe.billing.alerts.create(base), 400, 'usage_threshold');
    await rejects(stripe.billing.alerts.create({ ...base, title: '', usage_threshold: ut }), 400,
      'title');
    await rejects(stripe.billing.alerts.create({ ...base, alert_type: 'spend_threshold',
      usage_threshold: ut }), 400, 'alert_type');
    await rejects(stripe.billing.alerts.create({ ...base, usage_threshold: { ...ut, gte: 0 } }),
      400, 'usage_threshold[gte]');
    await rejects(stripe.billing.alerts.create({ ...base,
      usage_threshold: { meter: m.id, recurrence: 'one_time' } }), 400, 'usage_threshold[gte]');
    await rejects(stripe.billing.alerts.create({ ...base,
      usage_threshold: { ...ut, recurrence: 'monthly' } }), 400, 'usage_threshold[recurrence]');
    await rejects(stripe.billing.alerts.create({ ...base,
      usage_threshold: { ...ut, meter: 'mtr_nope' } }), 404, 'usage_threshold[meter]',
    /No such billing.meter/);
    await rejects(stripe.billing.alerts.create({ ...base, usage_threshold: { ...ut,
      filters: [{ type: 'customer', customer: 'cus_nope' }] } }), 404,
    'usage_threshold[filters][0][customer]');
    await rejects(stripe.billing.alerts.create({ ...base, usage_threshold: { ...ut,
      filters: [{ type: 'customer' }] } }), 400, 'usage_threshold[filters][0][customer]');
    await rejects(stripe.billing.alerts.create({ ...base, usage_threshold: { ...ut,
      filters: [{ type: 'customer', customer: cus.id }, { type: 'customer', customer: cus.id }] } }),
    400, 'usage_threshold[filters]');
    await rejects(stripe.billing.alerts.create({ ...base, usage_threshold: ut, status: 'active' }),
      400, 'status');
    // another merchant's meter and alerts are not this merchant's
    await rejects(other.billing.alerts.create({ ...base, usage_threshold: ut }), 404,
      'usage_threshold[meter]');
    await rejects(other.billing.alerts.retrieve(f.id), 404);
    await rejects(other.billing.alerts.deactivate(f.id), 404);
    assert.equal((await other.billing.alerts.list()).data.length, 0);
    assert.deepEqual((await stripe.billing.alerts.list({ meter: m.id })).data.map((x) => x.id),
      [f.id]);
    assert.equal((await stripe.billing.alerts.retrieve(f.id)).status, 'active');

    // Stripe's bound: 25 alerts not archived for one meter and customer (f is the first)
    const more = [];
    for (let i = 0; i < 24; i++) {
      more.push(await stripe.billing.alerts.create({ ...base, usage_threshold: { ...ut,
        filters: [{ type: 'customer', customer: cus.id }] } }));
    }
    const full = { ...base, usage_threshold: { ...ut,
      filters: [{ type: 'customer', customer: cus.id }] } };
    await rejects(stripe.billing.alerts.create(full), 400, 'usage_threshold[meter]', /at most 25/);
    await stripe.billing.alerts.create({ ...base, usage_threshold: ut }); // all customers: apart
    await stripe.billing.alerts.archive(more[0].id);
    assert.equal((await stripe.billing.alerts.create(full)).status, 'active');
  });

test('billing alerts: one_time fires once per customer when its usage reaches gte',
  async () => {
    const m = await stripe.billing.meters.create({
      display_name: 'Tokens used', event_name: 'alert_tokens',
      default_aggregation: { formula: 'sum' },
    });
    const [c1, c2] = await Promise.all([
      stripe.customers.create({ email: 't1@example.com' }),
      stripe.customers.create({ email: 't2@example.com' }),
    ]);
    // usage reported before the alert was made never counts toward it (Stripe's rule): the
    // alert is made in a later second
    await usage('alert_tokens', c1.id, 500);
    await new Promise((res) => setTimeout(res, 1100));
    const a = await stripe.billing.alerts.create({
      alert_type: 'usage_threshold', title: '100 tokens',
      usage_threshold: { meter: m.id, gte: 100, recurrence: 'one_time' },
    });
    await usage('alert_tokens', c1.id, 60);
    assert.equal((await triggered(m.id)).length, 0);
    // backdated usage reported after the alert still counts; the report reaching 100 fires it,
    // its event appended by that report's own request
    const hit = await usage('alert_tokens', c1.id, 40,
      { timestamp: Math.floor(Date.now() / 1000) - 2 * DAY });
    let evs = await triggered(m.id);
    assert.equal(evs.length, 1);
    const ev = evs[0];
    assert.equal(ev.request.id, hit.lastResponse.requestId);
    const obj = ev.data.object;
    assert.deepEqual(obj, {
      object: 'billing.alert_triggered',
      alert: alertWant(a),
      created: ev.created,
      customer: c1.id,
      livemode: false,
      value: 100,
    });
    assertShape(obj, 'billing.alert_triggered');
    assert.ok(Math.abs(obj.created - Date.now() / 1000) < 600);

    // never again for c1; c2 has its own usage and fires at its own crossing, once
    await usage('alert_tokens', c1.id, 1000);
    await usage('alert_tokens', c2.id, 99);
    assert.equal((await triggered(m.id)).length, 1);
    await usage('alert_tokens', c2.id, 1);
    await usage('alert_tokens', c2.id, 1);
    evs = await triggered(m.id);
    assert.deepEqual(evs.map((e) => [e.data.object.customer, e.data.object.value]),
      [[c2.id, 100], [c1.id, 100]]);
  });

test('billing alerts: a filtered alert watches its customer, inactive and archived ones nothing',
  async () => {
    const m = await stripe.billing.meters.create({
      display_name: 'Logins counted', event_name: 'alert_logins',
      default_aggregation: { formula: 'count' },
    });
    const T0 = Math.floor(Date.now() / 1000) - 10 * DAY;
    const clock = await stripe.testHelpers.testClocks.create({ frozen_time: T0 });
    const [c1, c2] = await Promise.all([
      stripe.customers.create({ email: 'l1@example.com', test_clock: clock.id }),
      stripe.customers.create({ email: 'l2@example.com' }),
    ]);
    const ut = { meter: m.id, recurrence: 'one_time' };
    const f = await stripe.billing.alerts.create({ alert_type: 'usage_threshold', title: 'c1',
      usage_threshold: { ...ut, gte: 2, filters: [{ type: 'customer', customer: c1.id }] } });
    const idle = await stripe.billing.alerts.create({ alert_type: 'usage_threshold',
      title: 'idle', usage_threshold: { ...ut, gte: 1 } });
    const gone = await stripe.billing.alerts.create({ alert_type: 'usage_threshold',
      title: 'gone', usage_threshold: { ...ut, gte: 1 } });
    await stripe.billing.alerts.deactivate(idle.id);
    await stripe.billing.alerts.archive(gone.id);

    for (let i = 0; i < 3; i++) await usage('alert_logins', c2.id, 1);
    await usage('alert_logins', c1.id, 1);
    assert.equal((await triggered(m.id)).length, 0);
    // c1's second login: its count reaches 2, at c1's test clock time
    await usage('alert_logins', c1.id, 1);
    let evs = await triggered(m.id);
    assert.equal(evs.length, 1);
    assert.equal(evs[0].data.object.alert.id, f.id);
    assert.deepEqual([evs[0].data.object.customer, evs[0].data.object.value], [c1.id, 2]);
    assert.equal(evs[0].data.object.created, T0);
    assert.equal(evs[0].created, T0);

    // activated again, the idle alert counts all c2's usage since it was made, at c2's next
    // report; the archived one stays silent
    await stripe.billing.alerts.activate(idle.id);
    await usage('alert_logins', c2.id, 1);
    evs = await triggered(m.id);
    assert.deepEqual(evs.map((e) => [e.data.object.alert.id, e.data.object.customer,
      e.data.object.value]), [[idle.id, c2.id, 4], [f.id, c1.id, 2]]);
  });

test('billing alerts: running usage fires at the same report as summing every event would',
  async () => {
    const [ms, ml] = await Promise.all([
      stripe.billing.meters.create({ display_name: 'Run sum', event_name: 'alert_run_sum',
        default_aggregation: { formula: 'sum' } }),
      stripe.billing.meters.create({ display_name: 'Run last', event_name: 'alert_run_last',
        default_aggregation: { formula: 'last' } }),
    ]);
    const cus = await stripe.customers.create({ email: 'run@example.com' });
    const ut = { recurrence: 'one_time', gte: 100 };
    const one = await stripe.billing.alerts.create({ alert_type: 'usage_threshold', title: 'one',
      usage_threshold: { ...ut, meter: ms.id, filters: [{ type: 'customer', customer: cus.id }] } });
    const all = await stripe.billing.alerts.create({ alert_type: 'usage_threshold', title: 'all',
      usage_threshold: { ...ut, meter: ms.id } });
    const lastA = await stripe.billing.alerts.create({ alert_type: 'usage_threshold',
      title: 'last', usage_threshold: { ...ut, gte: 50, meter: ml.id } });
    const T = Math.floor(Date.now() / 1000) - HOUR;
    const sum = (v, identifier, extra = {}) =>
      usage('alert_run_sum', cus.id, v, { identifier, ...extra });
    const last = (v, identifier, timestamp) =>
      usage('alert_run_last', cus.id, v, { identifier, timestamp });
    const cancel = (event_name, identifier) => stripe.billing.meterEventAdjustments.create({
      event_name, type: 'cancel', cancel: { identifier } });

    // sum: 40 + 30 (backdated) + 25 = 95, then the 25 canceled: 70
    await sum(40, 'run-1');
    await sum(30, 'run-2', { timestamp: T - 2 * DAY });
    await sum(25, 'run-3');
    await cancel('alert_run_sum', 'run-3');
    // `all` inactive meanwhile: the 20 still counts for it once activated again (95 at run-5)
    await stripe.billing.alerts.deactivate(all.id);
    await sum(20, 'run-4');
    await stripe.billing.alerts.activate(all.id);
    await sum(5, 'run-5');
    assert.equal((await triggered(ms.id)).length, 0, 'nothing reaches 100 before run-6');
    const hit = await sum(5, 'run-6');
    let evs = await triggered(ms.id);
    assert.deepEqual(evs.map((e) => [e.data.object.alert.id, e.data.object.value,
      e.request.id]).sort(), [[one.id, 100, hit.lastResponse.requestId],
      [all.id, 100, hit.lastResponse.requestId]].sort());
    // fired: a cancellation afterwards changes nothing, and neither fires again
    await cancel('alert_run_sum', 'run-6');
    await sum(500, 'run-7');
    assert.equal((await triggered(ms.id)).length, 2);

    // last: the value of the latest timestamp, not of the latest report
    await last(10, 'lrun-1', T);
    await last(80, 'lrun-2', T - DAY); // backdated: 10 stays the last
    await last(40, 'lrun-3', T + 60);
    await cancel('alert_run_last', 'lrun-3'); // taken back: 10 is the last again
    await last(70, 'lrun-4', T - 2 * DAY);
    assert.equal((await triggered(ml.id)).length, 0, 'the last value is still 10');
    // later than 10's, earlier than the canceled 40's: the last only with 40 taken back
    const lhit = await last(55, 'lrun-5', T + 30);
    evs = await triggered(ml.id);
    assert.deepEqual(evs.map((e) => [e.data.object.alert.id, e.data.object.value, e.request.id]),
      [[lastA.id, 55, lhit.lastResponse.requestId]]);
    assertShape(evs[0].data.object, 'billing.alert_triggered');
  });
