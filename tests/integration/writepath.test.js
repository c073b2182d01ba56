'use strict';
// The two write paths (src/http/server.c): "async" (the default on the embedded store: a write's
// handler parks in a coroutine on the HTTP thread until its group commit is durable) and
// "workers" (a worker thread sleeps through the commit). Both must give the same answers under
// concurrency, and a client that hangs up while its write is in flight must not leave a payment
// half-recorded, doubled, or its Idempotency-Key stuck.
const { test, after } = require('node:test');
const assert = require('node:assert/strict');
const net = require('node:net');
const { spawnSync } = require('node:child_process');
const { BIN, startTender, tender, stopAll } = require('./helpers');

after(stopAll);

// Sends a whole keyed confirm over a raw socket and closes it at once, before any answer.
function hangUp(port, key, idem, amount) {
  return new Promise((resolve) => {
    const body = `amount=${amount}&currency=usd&payment_method=pm_card_visa&confirm=true`;
    const s = net.connect(port, '127.0.0.1', () => {
      s.write(
        'POST /v1/payment_intents HTTP/1.1\r\nHost: 127.0.0.1\r\n' +
          `Authorization: Bearer ${key}\r\nIdempotency-Key: ${idem}\r\n` +
          'Content-Type: application/x-www-form-urlencoded\r\n' +
          `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
        () => {
          s.destroy();
          resolve();
        },
      );
    });
    s.on('error', resolve);
  });
}

async function allIntents(stripe) {
  const out = [];
  for await (const pi of stripe.paymentIntents.list({ limit: 100 })) out.push(pi);
  return out;
}

for (const mode of ['async', 'workers']) {
  test(`write path ${mode}: concurrent SDK writes and hung-up clients, each payment once`, async () => {
    const env = await startTender({ args: ['--rate-limit', '0', '--write-path', mode] });
    const stripe = env.stripe();
    const key = env.merchant.secret_key;

    // 1. concurrent confirms and tokenizations through stripe-node, each answered in full
    const confirms = Array.from({ length: 40 }, (_, i) =>
      stripe.paymentIntents.create(
        { amount: 1000 + i, currency: 'usd', payment_method: 'pm_card_visa', confirm: true },
        { idempotencyKey: `${mode}-sdk-${i}` },
      ),
    );
    const cards = Array.from({ length: 20 }, () =>
      stripe.paymentMethods.create({ type: 'card', card: { number: '4242424242424242', exp_month: 12, exp_year: 2034, cvc: '123' } }),
    );
    const paid = await Promise.all(confirms);
    const pms = await Promise.all(cards);
    for (const [i, pi] of paid.entries()) {
      assert.equal(pi.status, 'succeeded');
      assert.equal(pi.amount, 1000 + i);
    }
    assert.equal(new Set(pms.map((p) => p.id)).size, 20);
    for (const pm of pms) assert.equal(pm.card.last4, '4242');

    // 1b. confirms that end without a write after their fraud score (another customer's
    // PaymentMethod: a 400) among ones that pay, all at once: in async mode those scored in one
    // batch go on to their writes or their answers on their HTTP thread's same turn
    // (src/http/server.c, run_ready), and each still gets its own answer
    const [alice, bob] = await Promise.all([stripe.customers.create({ name: 'a' }), stripe.customers.create({ name: 'b' })]);
    const bobs = await stripe.paymentMethods.create({ type: 'card', card: { number: '4242424242424242', exp_month: 12, exp_year: 2034, cvc: '123' } });
    await stripe.paymentMethods.attach(bobs.id, { customer: bob.id });
    const open = await Promise.all(
      Array.from({ length: 24 }, (_, i) => stripe.paymentIntents.create({ amount: 2000 + i, currency: 'usd', customer: alice.id })),
    );
    const mixed = await Promise.allSettled(
      open.map((pi, i) => stripe.paymentIntents.confirm(pi.id, { payment_method: i % 2 ? bobs.id : 'pm_card_visa' })),
    );
    for (const [i, res] of mixed.entries()) {
      if (i % 2) {
        assert.equal(res.status, 'rejected', `confirm ${i}`);
        assert.equal(res.reason.statusCode, 400);
        assert.match(res.reason.message, /belongs to another customer/);
      } else {
        assert.equal(res.status, 'fulfilled', `confirm ${i}`);
        assert.equal(res.value.status, 'succeeded');
        assert.equal(res.value.amount, 2000 + i);
      }
    }
    for (const [i, pi] of open.entries()) {
      const now = await stripe.paymentIntents.retrieve(pi.id);
      assert.equal(now.status, i % 2 ? 'requires_payment_method' : 'succeeded', `intent ${i}`);
    }

    // 2. clients that hang up right after sending: the payments still happen, once each
    const hung = Array.from({ length: 30 }, (_, i) => hangUp(env.port, key, `${mode}-gone-${i}`, 5000 + i));
    await Promise.all(hung);

    // 3. the server still serves, and every hung-up key replays its one payment (or, if the
    // request was never read, makes it now: either way exactly one per key)
    // (a hung-up request may still be running: its key answers 409 idempotency_key_in_use
    // until it ends, as on Stripe; retried for up to 10 s)
    const replay = async (i) => {
      for (let t = 0; ; t++) {
        try {
          return await stripe.paymentIntents.create(
            { amount: 5000 + i, currency: 'usd', payment_method: 'pm_card_visa', confirm: true },
            { idempotencyKey: `${mode}-gone-${i}` },
          );
        } catch (e) {
          if (e.code !== 'idempotency_key_in_use' || t >= 100) throw e;
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    };
    const replays = Array.from({ length: 30 }, (_, i) => replay(i));
    const again = await Promise.all(replays);
    for (const [i, pi] of again.entries()) {
      assert.equal(pi.status, 'succeeded');
      assert.equal(pi.amount, 5000 + i);
    }
    const intents = await allIntents(stripe);
    assert.equal(intents.length, 40 + 24 + 30, 'one PaymentIntent per key');
    const amounts = intents.map((p) => p.amount).sort((a, b) => a - b);
    const want = [
      ...Array.from({ length: 40 }, (_, i) => 1000 + i),
      ...Array.from({ length: 24 }, (_, i) => 2000 + i),
      ...Array.from({ length: 30 }, (_, i) => 5000 + i),
    ];
    assert.deepEqual(amounts, want);

    await env.stop();
    assert.match(tender(['verify', '--data', env.dataDir]), /verify: ok/);
  });
}

test('--write-path takes async or workers only', () => {
  const r = spawnSync(BIN, ['serve', '--write-path', 'fast'], { encoding: 'utf8' });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--write-path: expected async or workers/);
});
