'use strict';
// Billing meters through stripe-node: meters (create with defaults and with payload key
// overrides, retrieve, update of display_name, list with status, deactivate / reactivate, the
// event name one meter's own, billing.meter.* events), meter events (recorded against the active
// meter of their event_name, an identifier counted once, timestamps within 35 days back and 5
// minutes ahead, whole-number values, the payload's customer the merchant's own), cancellation
// by an adjustment, and event summaries (one for the range, or by hour / day, newest first,
// paged by cursors) for the sum, count and last formulas. Another merchant sees none of it.
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
