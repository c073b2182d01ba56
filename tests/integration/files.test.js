'use strict';
// Files (multipart uploads through stripe-node's files.create), their contents, file links
// served without a key, and dispute evidence that names uploaded files.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const zlib = require('node:zlib');
const http = require('node:http');
const {
  startTender, assertStripeShape, stopAll, waitFor, storeSql, startServer, newDataDir, tender, withDatabaseUrls, PG_SHARD_URLS,
} = require('./helpers');

let env;
let stripe; // merchant 0
let other; // merchant 1

before(async () => {
  env = await startTender({ merchants: 2 });
  stripe = env.stripe();
  other = env.stripe(env.merchants[1].secret_key);
});
after(stopAll);

// ---- real small documents, made here ----
function crc32(buf) {
  let c;
  const table = [];
  for (let n = 0; n < 256; n++) {
    c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  let crc = 0xffffffff;
  for (const b of buf) crc = table[(crc ^ b) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}
function pngChunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}
function makePng(w = 4, h = 3) {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8; ihdr[9] = 2; ihdr[10] = 0; ihdr[11] = 0; ihdr[12] = 0; // 8-bit RGB
  const rows = [];
  for (let y = 0; y < h; y++) {
    rows.push(Buffer.from([0]));
    for (let x = 0; x < w; x++) rows.push(Buffer.from([x * 60, y * 80, 200]));
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr), pngChunk('IDAT', zlib.deflateSync(Buffer.concat(rows))), pngChunk('IEND', Buffer.alloc(0)),
  ]);
}
function makePdf(text = 'Receipt 42') {
  const objs = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 100] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>',
    null,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
  ];
  const stream = `BT /F1 12 Tf 20 50 Td (${text}) Tj ET`;
  objs[3] = `<< /Length ${stream.length} >>\nstream\n${stream}\nendstream`;
  let out = '%PDF-1.4\n%\xe2\xe3\xcf\xd3\n';
  const offs = [];
  objs.forEach((o, i) => { offs.push(Buffer.byteLength(out, 'latin1')); out += `${i + 1} 0 obj\n${o}\nendobj\n`; });
  const xref = Buffer.byteLength(out, 'latin1');
  out += `xref\n0 ${objs.length + 1}\n0000000000 65535 f \n`;
  for (const o of offs) out += `${String(o).padStart(10, '0')} 00000 n \n`;
  out += `trailer\n<< /Size ${objs.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, 'latin1');
}

function get(path, headers = {}) {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port: env.port, path, headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
    }).on('error', reject);
  });
}
const auth = (key) => ({ Authorization: `Bearer ${key}` });
const sk0 = () => env.merchants[0].secret_key;

// Sends a raw multipart body (for what the SDK would never send).
function rawUpload(body, boundary, key = sk0()) {
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: '127.0.0.1', port: env.port, method: 'POST', path: '/v1/files',
      headers: { ...auth(key), 'Content-Type': `multipart/form-data; boundary=${boundary}`, 'Content-Length': body.length },
    }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json;
        try { json = JSON.parse(text); } catch { json = undefined; }
        resolve({ status: res.statusCode, json, text });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}
function part(boundary, name, value, filename, type) {
  const head = `--${boundary}\r\nContent-Disposition: form-data; name="${name}"` +
    (filename ? `; filename="${filename}"\r\nContent-Type: ${type}` : '') + '\r\n\r\n';
  return Buffer.concat([Buffer.from(head), Buffer.isBuffer(value) ? value : Buffer.from(value), Buffer.from('\r\n')]);
}
const fileCount = () => Number(storeSql(env.dataDir, 'SELECT COUNT(*) FROM files').map((s) => Number(s.trim() || 0)).reduce((a, b) => a + b, 0));

let pdfFile;
let pngFile;
const pdf = makePdf();
const png = makePng();

test('a PDF and a PNG uploaded through stripe-node: Stripe\'s file object, file.created', async () => {
  const before = Math.floor(Date.now() / 1000);
  pdfFile = await stripe.files.create({ file: { data: pdf, name: 'receipt.pdf', type: 'application/pdf' }, purpose: 'dispute_evidence' });
  assertStripeShape(pdfFile, 'file');
  assert.match(pdfFile.id, /^file_/);
  assert.equal(pdfFile.object, 'file');
  assert.equal(pdfFile.purpose, 'dispute_evidence');
  assert.equal(pdfFile.type, 'pdf');
  assert.equal(pdfFile.size, pdf.length);
  assert.equal(pdfFile.filename, 'receipt.pdf');
  assert.equal(pdfFile.title, null);
  assert.equal(pdfFile.url, `http://127.0.0.1:${env.port}/v1/files/${pdfFile.id}/contents`);
  assert.ok(pdfFile.created >= before);
  // dispute evidence expires after nine months
  const d = new Date(pdfFile.created * 1000);
  assert.ok(pdfFile.expires_at > pdfFile.created + 270 * 86400 && pdfFile.expires_at < pdfFile.created + 277 * 86400, `${pdfFile.expires_at} ${d}`);
  assert.deepEqual(pdfFile.links, { object: 'list', data: [], has_more: false, url: `/v1/file_links?file=${pdfFile.id}` });

  pngFile = await stripe.files.create({ file: { data: png, name: 'logo.png', type: 'image/png' }, purpose: 'business_logo' });
  assertStripeShape(pngFile, 'file');
  assert.equal(pngFile.type, 'png');
  assert.equal(pngFile.expires_at, null);
  assert.equal(pngFile.size, png.length);

  const ev = await waitFor(async () => (await stripe.events.list({ type: 'file.created', limit: 10 })).data
    .find((e) => e.data.object.id === pdfFile.id), 'file.created');
  assertStripeShape(ev, 'event');
  assert.equal(ev.data.object.size, pdf.length);
});

test('retrieve, list by purpose with cursors, contents byte for byte', async () => {
  const got = await stripe.files.retrieve(pdfFile.id);
  assert.deepEqual(got, pdfFile);
  const ev = await stripe.files.list({ purpose: 'dispute_evidence' });
  assert.deepEqual(ev.data.map((f) => f.id), [pdfFile.id]);
  assert.equal(ev.url, '/v1/files');
  const all = await stripe.files.list({ limit: 1 });
  assert.equal(all.has_more, true);
  assert.equal(all.data[0].id, pngFile.id);
  const next = await stripe.files.list({ limit: 1, starting_after: pngFile.id });
  assert.equal(next.data[0].id, pdfFile.id);

  const c = await get(`/v1/files/${pdfFile.id}/contents`, auth(sk0()));
  assert.equal(c.status, 200);
  assert.equal(c.headers['content-type'], 'application/pdf');
  assert.ok(c.body.equals(pdf));
  assert.match(c.headers['content-security-policy'], /sandbox/);
  const p = await get(`/v1/files/${pngFile.id}/contents`, auth(sk0()));
  assert.equal(p.headers['content-type'], 'image/png');
  assert.ok(p.body.equals(png));
  // no key: refused
  assert.equal((await get(`/v1/files/${pdfFile.id}/contents`)).status, 401);
});

test('another merchant\'s file is 404 everywhere', async () => {
  await assert.rejects(other.files.retrieve(pdfFile.id), (e) => e.statusCode === 404 && e.code === 'resource_missing');
  assert.equal((await other.files.list()).data.length, 0);
  const c = await get(`/v1/files/${pdfFile.id}/contents`, auth(env.merchants[1].secret_key));
  assert.equal(c.status, 404);
  await assert.rejects(other.fileLinks.create({ file: pdfFile.id }), (e) => e.statusCode === 400 && e.code === 'resource_missing');
});

test('refused uploads store nothing: wrong type, type by content, oversize, purpose missing or unknown', async () => {
  const n = fileCount();
  // a PNG is not a PDF, whatever it is called
  await assert.rejects(stripe.files.create({ file: { data: png, name: 'x.pdf', type: 'application/pdf' }, purpose: 'dispute_evidence' }),
    (e) => e.statusCode === 400 && e.param === 'file');
  // text is no dispute evidence
  await assert.rejects(stripe.files.create({ file: { data: Buffer.from('hello'), name: 'x.txt', type: 'text/plain' }, purpose: 'dispute_evidence' }),
    (e) => e.statusCode === 400 && e.param === 'file' && /PDF, JPEG or PNG/.test(e.message));
  // a GIF is a logo, not evidence
  await assert.rejects(stripe.files.create({ file: { data: Buffer.from('GIF89a\x01\x00\x01\x00\x00\x00\x00;', 'latin1'), name: 'a.gif', type: 'image/gif' }, purpose: 'dispute_evidence' }),
    (e) => e.statusCode === 400 && e.param === 'file');
  // past dispute evidence's 5 MB
  const big = Buffer.concat([pdf, Buffer.alloc(5 * 1024 * 1024)]);
  await assert.rejects(stripe.files.create({ file: { data: big, name: 'big.pdf', type: 'application/pdf' }, purpose: 'dispute_evidence' }),
    (e) => e.statusCode === 400 && e.param === 'file' && /exceeds the limit/.test(e.message));
  // past a logo's 512 KB
  await assert.rejects(stripe.files.create({ file: { data: Buffer.concat([png, Buffer.alloc(600 * 1024)]), name: 'l.png', type: 'image/png' }, purpose: 'business_logo' }),
    (e) => e.statusCode === 400 && e.param === 'file');
  await assert.rejects(stripe.files.create({ file: { data: pdf, name: 'r.pdf', type: 'application/pdf' } }),
    (e) => e.statusCode === 400 && e.code === 'parameter_missing' && e.param === 'purpose');
  await assert.rejects(stripe.files.create({ file: { data: pdf, name: 'r.pdf', type: 'application/pdf' }, purpose: 'party_invitation' }),
    (e) => e.statusCode === 400 && e.param === 'purpose');
  // no file part (stripe-node itself refuses to send that): Stripe's parameter_missing
  const b = 'QqQ';
  const r = await rawUpload(Buffer.concat([part(b, 'purpose', 'dispute_evidence'), Buffer.from(`--${b}--\r\n`)]), b);
  assert.equal(r.status, 400);
  assert.equal(r.json.error.code, 'parameter_missing');
  assert.equal(r.json.error.param, 'file');
  // a file sent as a text field
  const t = await rawUpload(Buffer.concat([part(b, 'purpose', 'dispute_evidence'), part(b, 'file', 'JVBERi0x'), Buffer.from(`--${b}--\r\n`)]), b);
  assert.equal(t.status, 400);
  assert.equal(t.json.error.param, 'file');
  // form-encoded: no file either
  const u = await env.request({ method: 'POST', path: '/v1/files', key: sk0(), body: 'purpose=dispute_evidence' });
  assert.equal(u.status, 400);
  assert.equal(u.json.error.param, 'file');
  await assert.rejects(stripe.files.create({ file: { data: pdf, name: 'r.pdf', type: 'application/pdf' }, purpose: 'dispute_evidence', colour: 'red' }),
    (e) => e.statusCode === 400 && e.code === 'parameter_unknown');
  // an empty file
  await assert.rejects(stripe.files.create({ file: { data: Buffer.alloc(0), name: 'e.pdf', type: 'application/pdf' }, purpose: 'dispute_evidence' }),
    (e) => e.statusCode === 400 && e.param === 'file');
  assert.equal(fileCount(), n);
});

test('malformed and over-bounded multipart bodies are 400s; a body past 16 MiB is 413', async () => {
  const n = fileCount();
  const b = 'XyZ';
  // no closing boundary
  let r = await rawUpload(Buffer.concat([part(b, 'purpose', 'dispute_evidence'), part(b, 'file', pdf, 'a.pdf', 'application/pdf')]), b);
  assert.equal(r.status, 400, r.text);
  assert.ok(r.json.error);
  // two files
  r = await rawUpload(Buffer.concat([part(b, 'purpose', 'dispute_evidence'), part(b, 'file', pdf, 'a.pdf', 'application/pdf'),
    part(b, 'file', pdf, 'b.pdf', 'application/pdf'), Buffer.from(`--${b}--\r\n`)]), b);
  assert.equal(r.status, 400, r.text);
  // too many parts
  const many = [];
  for (let i = 0; i < 70; i++) many.push(part(b, `metadata${i}`, 'x'));
  r = await rawUpload(Buffer.concat([...many, Buffer.from(`--${b}--\r\n`)]), b);
  assert.equal(r.status, 400, r.text);
  // a well-formed body works the same way by hand
  r = await rawUpload(Buffer.concat([part(b, 'purpose', 'dispute_evidence'), part(b, 'file', pdf, 'a.pdf', 'application/pdf'), Buffer.from(`--${b}--\r\n`)]), b);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.size, pdf.length);
  // 17 MiB: refused before it is read
  const huge = Buffer.alloc(17 << 20);
  r = await rawUpload(huge, b).catch(() => ({ status: 413 }));
  assert.equal(r.status, 413);
  // every other route still stops at 1 MiB
  const form = `description=${'a'.repeat((1 << 20) + 10)}`;
  const c = await env.request({ method: 'POST', path: '/v1/customers', key: sk0(), body: form });
  assert.equal(c.status, 413);
  assert.equal(fileCount(), n + 1);
});

test('an upload\'s idempotency key covers its bytes; publishable keys upload but make no links', async () => {
  const key = `files-${Date.now()}`;
  const a = await stripe.files.create({ file: { data: pdf, name: 'i.pdf', type: 'application/pdf' }, purpose: 'dispute_evidence' }, { idempotencyKey: key });
  const b = await stripe.files.create({ file: { data: pdf, name: 'i.pdf', type: 'application/pdf' }, purpose: 'dispute_evidence' }, { idempotencyKey: key });
  assert.equal(b.id, a.id);
  assert.equal(b.lastResponse.headers['idempotent-replayed'], 'true');
  // the same key with other bytes is another request
  await assert.rejects(stripe.files.create({ file: { data: makePdf('Receipt 43'), name: 'i.pdf', type: 'application/pdf' }, purpose: 'dispute_evidence' }, { idempotencyKey: key }),
    (e) => e.type === 'StripeIdempotencyError');
  const pk = env.stripe(env.merchant.publishable_key);
  const f = await pk.files.create({ file: { data: png, name: 'p.png', type: 'image/png' }, purpose: 'dispute_evidence' });
  assert.equal(f.purpose, 'dispute_evidence');
  await assert.rejects(pk.files.create({ file: { data: png, name: 'p.png', type: 'image/png' }, purpose: 'dispute_evidence', file_link_data: { create: true } }),
    (e) => e.statusCode === 400 && e.param === 'file_link_data');
  await assert.rejects(pk.files.retrieve(f.id), (e) => e.statusCode === 403 || e.statusCode === 401);
});

test('at most 8 uploads are read at once: the next is a retryable 503, and the slots come back', async () => {
  const net = require('node:net');
  const b = 'SlOt';
  const body = Buffer.concat([part(b, 'purpose', 'dispute_evidence'), part(b, 'file', pdf, 'a.pdf', 'application/pdf'), Buffer.from(`--${b}--\r\n`)]);
  // uploads whose bodies never come. The server reads each one's headers when it gets to it, in
  // no set order with the probes below: a probe read before the eighth stalled upload takes a
  // slot, answers and gives it back, and a stalled upload read while the slots were full waits,
  // refused, for a body that never comes. So each probe that is answered adds one more stalled
  // upload until eight of them hold the slots (each takes one as long as one is free).
  const stalled = [];
  const stall = () => {
    const sock = net.connect(env.port, '127.0.0.1');
    sock.on('error', () => {});
    sock.write(`POST /v1/files HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${sk0()}\r\n` +
      `Content-Type: multipart/form-data; boundary=${b}\r\nContent-Length: 1000000\r\n\r\n`);
    stalled.push(sock);
  };
  for (let i = 0; i < 8; i++) stall();
  const refused = await waitFor(async () => {
    const r = await rawUpload(body, b);
    if (r.status === 503) return r;
    if (stalled.length < 40) stall();
    return null;
  }, 'an upload refused for want of a slot');
  assert.equal(refused.json.error.type, 'api_error');
  // the other routes are not affected
  assert.equal((await env.request({ method: 'POST', path: '/v1/customers', key: sk0(), body: 'name=x' })).status, 200);
  for (const sock of stalled) sock.destroy();
  const ok = await waitFor(async () => {
    const r = await rawUpload(body, b);
    return r.status === 200 ? r : null;
  }, 'an upload accepted once the slots are free');
  assert.equal(ok.json.size, pdf.length);
});

test('file links: created on upload or on their own, fetched without a key, refused once expired', async () => {
  const now = Math.floor(Date.now() / 1000);
  const f = await stripe.files.create({
    file: { data: png, name: 'sig.png', type: 'image/png' }, purpose: 'dispute_evidence',
    file_link_data: { create: true, metadata: { order: '7' } },
  });
  assertStripeShape(f, 'file');
  assert.equal(f.links.data.length, 1);
  const l0 = f.links.data[0];
  assertStripeShape(l0, 'file_link');
  assert.match(l0.url, new RegExp(`^http://127\\.0\\.0\\.1:${env.port}/links/acct_[A-Za-z0-9]+/[A-Za-z0-9]{43}$`));
  assert.deepEqual(l0.metadata, { order: '7' });
  const created = await waitFor(async () => (await stripe.events.list({ type: 'file.created', limit: 10 })).data
    .find((e) => e.data.object.id === f.id), 'file.created');
  assert.equal(created.data.object.links.data[0].url, null); // the token is kept nowhere
  const pub = await get(new URL(l0.url).pathname);
  assert.equal(pub.status, 200);
  assert.ok(pub.body.equals(png));
  assert.equal(pub.headers['content-type'], 'image/png');

  const link = await stripe.fileLinks.create({ file: pdfFile.id, expires_at: now + 3600 });
  assertStripeShape(link, 'file_link');
  assert.equal(link.expired, false);
  assert.equal(link.file, pdfFile.id);
  const path = new URL(link.url).pathname;
  assert.ok((await get(path)).body.equals(pdf));
  // the store keeps only the token's hash
  const token = path.split('/').pop();
  assert.ok(!storeSql(env.dataDir, 'SELECT token_hash FROM file_links').join('').includes(token));
  // a guessed token, or another merchant's path: 404
  assert.equal((await get(path.replace(/.$/, (c) => (c === 'a' ? 'b' : 'a')))).status, 404);
  assert.equal((await get(path.replace(env.merchants[0].id, env.merchants[1].id))).status, 404);

  const got = await stripe.fileLinks.retrieve(link.id);
  assertStripeShape(got, 'file_link');
  assert.equal(got.url, null); // the token is not kept
  const listed = await stripe.fileLinks.list({ file: pdfFile.id });
  assert.deepEqual(listed.data.map((x) => x.id), [link.id]);
  const upd = await stripe.fileLinks.update(link.id, { metadata: { a: 'b' } });
  assert.deepEqual(upd.metadata, { a: 'b' });
  const exp = await stripe.fileLinks.update(link.id, { expires_at: 'now' });
  assert.equal(exp.expired, true);
  assert.equal((await get(path)).status, 404);
  assert.deepEqual((await stripe.fileLinks.list({ expired: true })).data.map((x) => x.id), [link.id]);
  assert.ok(!(await stripe.fileLinks.list({ expired: false })).data.some((x) => x.id === link.id));
  await assert.rejects(stripe.fileLinks.update(link.id, { metadata: { a: 'c' } }), (e) => e.statusCode === 400);
  await assert.rejects(stripe.fileLinks.create({ file: pdfFile.id, expires_at: now - 10 }), (e) => e.statusCode === 400 && e.param === 'expires_at');
  await assert.rejects(other.fileLinks.retrieve(link.id), (e) => e.statusCode === 404);

  // purposes Stripe allows no link for
  const idDoc = await stripe.files.create({ file: { data: pdf, name: 'id.pdf', type: 'application/pdf' }, purpose: 'identity_document' });
  assert.equal(idDoc.url, null);
  assert.equal((await get(`/v1/files/${idDoc.id}/contents`, auth(sk0()))).status, 404);
  await assert.rejects(stripe.fileLinks.create({ file: idDoc.id }), (e) => e.statusCode === 400 && e.param === 'file');
});

test('dispute evidence names uploaded files: accepted and shown; unknown, other-merchant or wrong-purpose files refused', async () => {
  const pi = await stripe.paymentIntents.create({ amount: 3000, currency: 'usd', payment_method: 'pm_card_createDispute', confirm: true });
  const dp = await waitFor(async () => (await stripe.disputes.list({ charge: pi.latest_charge })).data[0], 'a dispute');
  const theirs = await other.files.create({ file: { data: pdf, name: 'r.pdf', type: 'application/pdf' }, purpose: 'dispute_evidence' });
  for (const [field, id] of [['receipt', 'file_nope'], ['shipping_documentation', theirs.id], ['uncategorized_file', pngFile.id]]) {
    await assert.rejects(stripe.disputes.update(dp.id, { evidence: { [field]: id }, submit: false }),
      (e) => e.statusCode === 400 && e.code === 'resource_missing' && e.param === `evidence[${field}]` &&
        e.message === `No such file upload: '${id}'`);
  }
  const d0 = await stripe.disputes.retrieve(dp.id);
  assert.equal(d0.evidence.receipt, null);
  assert.equal(d0.evidence_details.has_evidence, false);

  const up = await stripe.disputes.update(dp.id, {
    evidence: { receipt: pdfFile.id, customer_communication: pdfFile.id, product_description: 'a lamp' }, submit: false,
  });
  assertStripeShape(up, 'dispute');
  assert.equal(up.evidence.receipt, pdfFile.id);
  assert.equal(up.evidence.customer_communication, pdfFile.id);
  assert.equal(up.evidence_details.has_evidence, true);
  assert.equal(up.evidence_details.submission_count, 0);
  assert.equal((await stripe.disputes.retrieve(dp.id)).evidence.receipt, pdfFile.id);
  // "" removes a file again
  const cleared = await stripe.disputes.update(dp.id, { evidence: { customer_communication: '' }, submit: false });
  assert.equal(cleared.evidence.customer_communication, null);
  assert.equal(cleared.evidence.receipt, pdfFile.id);
});

test('PostgreSQL: another node serves the bytes, and they move with their merchant between shards',
  { skip: PG_SHARD_URLS.length < 2 ? 'needs two PostgreSQL shards (scripts/integration-pg.sh)' : false }, async () => {
    const args = withDatabaseUrls(['--data', env.dataDir]);
    const dbFlags = args.slice(2);
    const node2 = await startServer({ dataDir: newDataDir('tender-files-b-'), keyFile: env.keyFile, args: dbFlags });
    const fetch2 = (p) => new Promise((resolve, reject) => {
      http.get({ host: '127.0.0.1', port: node2.port, path: p, headers: auth(sk0()) }, (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks) }));
      }).on('error', reject);
    });
    let r = await fetch2(`/v1/files/${pdfFile.id}/contents`);
    assert.equal(r.status, 200);
    assert.ok(r.body.equals(pdf));
    const m = env.merchants[0].id;
    const line = tender(['shards', 'list', ...dbFlags]).split('\n').find((l) => l.startsWith(`${m}\t`));
    const to = Number(line.split('\t')[1]) === 0 ? 1 : 0;
    const out = JSON.parse(tender(['shards', 'rebalance', '--move', m, '--to', String(to), ...dbFlags]));
    assert.equal(out.to, to);
    r = await fetch2(`/v1/files/${pdfFile.id}/contents`);
    assert.equal(r.status, 200);
    assert.ok(r.body.equals(pdf));
    const c = await get(`/v1/files/${pngFile.id}/contents`, auth(sk0()));
    assert.ok(c.body.equals(png));
    await node2.stop();
  });
