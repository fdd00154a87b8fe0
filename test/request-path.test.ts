// The request path's shortcuts keep their results exact: isCanonical agrees with canonicalize,
// events built around their object's stored JSON carry exactly the object (bytes and key order,
// created and updated, with and without includable fields), and the heap bounds
// (src/http/memory-bounds.ts) hold the new space where they say and keep the old space smaller.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { canonicalize, isCanonical } from '../src/api/render.js';
import { withBase } from '../src/resources/define.js';
import { freshKey, startTestServer, type TestServer } from './helpers/server.js';

/** Runs an ES module's source in a fresh node process (its own heap and V8 flags); returns what it printed. */
const runModule = (source: string) => execFileSync(process.execPath, ['--input-type=module', '-e', source], { encoding: 'utf8' }).trim();

let t: TestServer;
before(async () => { t = await startTestServer(); });
after(() => t.close());

describe('request path', () => {
  test('isCanonical is true exactly when canonicalize would change nothing', () => {
    const samples: unknown[] = [
      { id: 'x', object: 'o', a: 1, b: { id: 'y', c: [1, { d: null, e: 'f' }] } },
      { object: 'o', a: 1 },
      { id: 'x', a: 1, object: 'o' },
      { b: 1, a: 2 },
      { a: 1, b: undefined },
      { a: [{ z: 1, y: 2 }] },
      { metadata: { 9: 'a', 10: 'b' } },
      { '': 1, a: 2 },
      { a: new Date(0) },
      [],
      null,
    ];
    for (const s of samples) {
      const c = canonicalize(s);
      assert.equal(isCanonical(c), isCanonical(canonicalize(c)), JSON.stringify(s));
      if (isCanonical(s)) assert.equal(JSON.stringify(s), JSON.stringify(c), JSON.stringify(s));
    }
    assert.equal(isCanonical({ id: 'x', object: 'o', a: 1, b: { c: 1 } }), true);
    assert.equal(isCanonical({ id: 'x', a: 1, object: 'o' }), false);
    assert.equal(isCanonical({ b: 1, a: 2 }), false);
    assert.equal(isCanonical({ a: 1, b: undefined }), false);
    assert.equal(isCanonical({ a: [{ z: 1, y: 2 }] }), false);
    assert.equal(isCanonical({ a: new Date(0) }), false);
  });

  test('withBase is the spread it replaces', () => {
    const base = { id: 'cus_1', object: 'customer', created: 1, livemode: false };
    assert.deepEqual(canonicalize(withBase(base, { email: null, balance: 0 })), canonicalize({ ...base, email: null, balance: 0 }));
  });

  test("events carry their object's exact bytes, created and updated, includable fields left out", async () => {
    const key = freshKey();
    const s = t.stripe(key);
    const c = await s.customers.create({ name: 'Splice "quoted" \u2028', email: 'sp@example.com', metadata: { b: '1', a: '2', 10: 'x', 9: 'y' } });
    await s.customers.update(c.id, { name: 'Spliced', metadata: { a: '' } });
    const product = await s.products.create({ name: 'P', default_price_data: { currency: 'usd', unit_amount: 100 } });
    const events = await t.request('GET', '/v1/events?limit=10', { key });
    assert.equal(events.status, 200);
    const list = JSON.parse(events.text) as { data: Array<{ type: string; data: { object: Record<string, unknown>; previous_attributes?: unknown } }> };
    const byType = new Map(list.data.map((e) => [e.type, e]));
    const retrieved = JSON.parse((await t.request('GET', `/v1/customers/${c.id}`, { key })).text);
    assert.equal(JSON.stringify(byType.get('customer.updated')!.data.object), JSON.stringify(retrieved));
    assert.deepEqual(byType.get('customer.updated')!.data.previous_attributes, { metadata: { a: '2' }, name: 'Splice "quoted" \u2028' });
    const createdObject = byType.get('customer.created')!.data.object;
    assert.equal(createdObject.name, 'Splice "quoted" \u2028');
    assert.deepEqual(Object.keys(createdObject), Object.keys(canonicalize(createdObject)));
    assert.equal(JSON.stringify(byType.get('product.created')!.data.object), JSON.stringify(JSON.parse((await t.request('GET', `/v1/products/${product.id}`, { key })).text)));
  });

  test('the young generation stays within its bound under allocation (and grows past it without one)', () => {
    const script = (bound: number) => `
      process.env.PINSTRIPE_MAX_YOUNG_MB = '${bound}';
      process.env.PINSTRIPE_HEAP_GROWING_PERCENT = '0';
      const v8 = await import('node:v8');
      await import(${JSON.stringify(new URL('../src/http/memory-bounds.js', import.meta.url).href)});
      let keep = [];
      for (let i = 0; i < 600000; i++) {
        keep.push({ i, s: 'x' + i });
        if (keep.length > 2000) keep = [];
        if (i % 1000 === 0) await new Promise((r) => setImmediate(r));
      }
      console.log(v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size);`;
    const newSpace = (bound: number) => Number(runModule(script(bound)));
    assert.ok(newSpace(8) <= 8 * 1024 * 1024);
    assert.ok(newSpace(0) > 8 * 1024 * 1024); // V8 alone grows it further: the bound is what holds it
  });

  test('the old-generation growth bound keeps promoted garbage from doubling the old space', () => {
    // Objects that live long enough to be promoted, then die: the old space fills with garbage
    // until V8's next full collection, whose limit the growing factor sets.
    const script = (percent: number) => `
      process.env.PINSTRIPE_HEAP_GROWING_PERCENT = '${percent}';
      process.env.PINSTRIPE_MAX_YOUNG_MB = '0';
      const v8 = await import('node:v8');
      await import(${JSON.stringify(new URL('../src/http/memory-bounds.js', import.meta.url).href)});
      const ring = new Array(1000).fill(null);
      let max = 0;
      for (let i = 0; i < 20000; i++) {
        ring[i % 1000] = Array.from({ length: 100 }, (_, j) => ({ j, s: 'v' + i + ':' + j }));
        if (i % 100 === 0) {
          await new Promise((r) => setImmediate(r));
          max = Math.max(max, v8.getHeapSpaceStatistics().find((s) => s.space_name === 'old_space').space_size);
        }
      }
      console.log(max);`;
    const oldSpace = (percent: number) => Number(runModule(script(percent)));
    const bounded = oldSpace(20);
    const unbounded = oldSpace(0);
    assert.ok(bounded < unbounded * 0.75, `old space ${bounded} with the bound, ${unbounded} without`);
  });
});
