'use strict';
// The official stripe-python SDK (Debian's python3-stripe) against a running Tender: the checks
// themselves are in python/stripe_python.py; this file starts the server and reports each one.
// stripe-python encodes differently from stripe-node (`expand[0]`, `items[0][price]`, Python's
// True as "True"), so a second SDK catches what one alone would not.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { execFile } = require('node:child_process');
const { startTender, stopAll } = require('./helpers');

let env;
before(async () => {
  env = await startTender();
});
after(stopAll);

test('stripe-python: payments, errors, lists, subscriptions, checkout and a verified webhook', async () => {
  const script = path.join(__dirname, 'python', 'stripe_python.py');
  const { code, stdout, stderr } = await new Promise((resolve) => {
    // Debian's interpreter, where python3-stripe is installed (not a python3 found first on PATH)
    execFile('/usr/bin/python3', [script, env.merchant.secret_key, `http://127.0.0.1:${env.port}`],
      { timeout: 120000 }, (err, out, errOut) => resolve({ code: err ? err.code : 0, stdout: out, stderr: errOut }));
  });
  const checks = stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
  assert.ok(checks.length >= 53, `too few checks ran (${checks.length}); stderr: ${stderr}`);
  const failed = checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail}`);
  assert.deepEqual(failed, []);
  assert.equal(code, 0, stderr);
});
