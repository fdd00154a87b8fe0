// No request, however malformed, produces a 500 or a hang; seeded runs are reproducible.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { freshKey, startTestServer, type TestServer } from './helpers/server.js';

let t: TestServer;
before(async () => { t = await startTestServer(); });
after(() => t.close());

/** A small deterministic PRNG so a failure reproduces. */
function rng(seed: number) {
  return () => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed / 0x7fffffff; };
}

const PIECES = ['metadata', '[', ']', '%5B', '%5D', '=', '&', 'name', 'email', 'expand', '[]', '[0]', 'data.', 'address',
  'line1', '%', '%ZZ', '%E0%A4', '+', ' ', 'true', 'false', '-1', '1e9', '99999999999999999999', '', 'null', '__proto__',
  'constructor', 'prototype', 'limit', 'created', '[gt]', 'tiers', 'up_to', 'inf', 'recurring', 'interval', 'month',
  'currency', 'usd', 'unit_amount', 'product_data', 'default_price_data', 'query', "'", '"', ':', '~', 'AND', 'OR', '\u0000', '\u00e9'];

describe('malformed input never yields a 5xx', () => {
  test('random bodies and query strings on every family', async () => {
    const rand = rng(Number(process.env.FUZZ_SEED ?? 42));
    const pick = () => PIECES[Math.floor(rand() * PIECES.length)]!;
    const targets: Array<[string, string]> = [
      ['POST', '/v1/customers'], ['GET', '/v1/customers'], ['GET', '/v1/customers/search'], ['POST', '/v1/products'],
      ['GET', '/v1/products'], ['POST', '/v1/prices'], ['GET', '/v1/prices'], ['GET', '/v1/events'], ['GET', '/v1/prices/search'],
    ];
    for (let i = 0; i < Number(process.env.FUZZ_ITERATIONS ?? 400); i++) {
      const [method, path] = targets[i % targets.length]!;
      const text = Array.from({ length: 1 + Math.floor(rand() * 12) }, pick).join('');
      const r = method === 'GET'
        ? await t.request(method, `${path}?${encodeURI(text).replace(/%25/g, '%')}`).catch(() => null)
        : await t.request(method, path, { body: text });
      if (!r) continue; // the client refused to send it
      assert.ok(r.status < 500, `${method} ${path} ${JSON.stringify(text)} → ${r.status} ${r.text.slice(0, 200)}`);
      if (r.status !== 200) assert.ok(r.json?.error?.message, `error body for ${JSON.stringify(text)}`);
    }
  });

  test('prototype-polluting keys are plain data', async () => {
    const r = await t.request('POST', '/v1/customers', { body: '__proto__[polluted]=1&metadata[__proto__]=x&metadata[constructor]=y' });
    assert.ok(r.status < 500);
    assert.equal(({} as any).polluted, undefined);
  });

  test('odd methods and paths', async () => {
    for (const [m, p] of [['PUT', '/v1/customers'], ['PATCH', '/v1/customers/cus_1'], ['GET', '/'], ['GET', '/v1'], ['GET', '/v1/customers/'], ['POST', '/v1/customers/cus_1/nope']]) {
      const r = await t.request(m!, p!);
      assert.equal(r.status, 404, `${m} ${p}`);
      assert.match(r.json.error.message, /^Unrecognized request URL/);
    }
  });
});

describe('--seed', () => {
  test('the same seed gives the same ids', async () => {
    const ids: string[][] = [];
    for (let run = 0; run < 2; run++) {
      const s = await (await import('./helpers/server.js')).startTestServer({ seed: 7 });
      try {
        const key = freshKey();
        const a = await s.request('POST', '/v1/customers', { key, body: 'name=a' });
        const b = await s.request('POST', '/v1/products', { key, body: 'name=b' });
        ids.push([a.json.id, b.json.id]);
      } finally { await s.close(); }
    }
    assert.deepEqual(ids[0], ids[1]);
  });
});
