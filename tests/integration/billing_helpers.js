'use strict';
// What the billing test files share: the check of an object against Stripe's spec, minus the
// problems that are the validator's spec being older than the shapes Tender follows, and
// moving a test clock and waiting for it.
const assert = require('node:assert/strict');
const path = require('node:path');
const { SHARED } = require('./helpers');

// The validator's 2023-08-16 spec predates the 2025 invoice, subscription and invoice item
// shapes that stripe-node 23 speaks and Tender follows (see subscriptions.test.js): these exact
// problems are the spec being out of date.
const BILLING_OUTDATED = [
  /^\$\.current_period_(start|end): missing required property$/,
  /^\$\.discount: absent /,
  /^\$\.(paid|paid_out_of_band|total_tax_amounts): missing required property$/,
  /^\$\.(application_fee_amount|charge|payment_intent|quote|rendering_options|subscription_details|tax|transfer_data): absent /,
  /^\$\.lines\.data\[\d+\]\.(proration|type): missing required property$/,
  /^\$\.lines\.data\[\d+\]\.(amount_excluding_tax|price|proration_details|unit_amount_excluding_tax): absent /,
];

// extra: more patterns of the spec's age that only some objects meet
function billingShape(obj, schema, extra = []) {
  const validator = require(path.join(SHARED, 'tools', 'stripe-openapi-validate.js'));
  const outdated = [...BILLING_OUTDATED, ...extra];
  const problems = validator.validate(JSON.stringify(obj), schema, { complete: true })
    .filter((p) => !outdated.some((re) => re.test(p)));
  assert.deepEqual(problems, [], `${schema} does not match Stripe's spec:\n${problems.join('\n')}`);
}

// Advancing is asynchronous, as on Stripe: poll until the clock is ready again.
async function clockReady(stripe, clock) {
  for (let i = 0; i < 300; i++) {
    const c = await stripe.testHelpers.testClocks.retrieve(clock.id);
    if (c.status === 'ready') return c;
    assert.equal(c.status, 'advancing');
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('the clock did not finish advancing');
}

async function clockAdvance(stripe, clock, to) {
  await stripe.testHelpers.testClocks.advance(clock.id, { frozen_time: to });
  const c = await clockReady(stripe, clock);
  assert.equal(c.frozen_time, to);
  return c;
}

module.exports = { BILLING_OUTDATED, billingShape, clockReady, clockAdvance };
