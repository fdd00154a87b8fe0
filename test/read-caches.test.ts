// The two bounded caches of the read path: rendered bodies (api/stored-result.ts) and stored
// rows (store/read-cache.ts). What users rely on: a body or row read often stays cached while
// many others come and go, the caches never grow past their bounds, and a retrieve's bytes are
// the body's UTF-8.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { BodyCache } from '../src/api/stored-result.js';
import { RowCache } from '../src/store/read-cache.js';
import type { StoredObject } from '../src/store/store.js';

const stored = (seq: number): StoredObject => ({ id: `cus_${seq}`, type: 'customer', created: 1, seq, version: 1, deleted: false, data: {} });

describe('rendered body cache', () => {
  test('a body read between insertions stays cached while cold ones are evicted, within the size bound', () => {
    const cache = new BodyCache(100 * 100); // room for 100 bodies of 100 characters
    const hotKey = cache.key('acct_1', stored(0), 'v');
    cache.set(hotKey, 'h'.repeat(100));
    for (let i = 1; i <= 1000; i++) {
      cache.set(cache.key('acct_1', stored(i), 'v'), String(i).padEnd(100, '.'));
      assert.equal(cache.get(hotKey)?.text, 'h'.repeat(100), `the hot body after ${i} others`);
    }
    assert.equal(cache.get(cache.key('acct_1', stored(1), 'v')), undefined, 'the oldest cold body is gone');
    assert.ok(cache.get(cache.key('acct_1', stored(1000), 'v')), 'the newest is there');
    let kept = 0;
    for (let i = 1; i <= 1000; i++) if (cache.get(cache.key('acct_1', stored(i), 'v'))) kept++;
    assert.ok(kept < 100, `${kept} cold bodies kept beside the hot one`);
  });

  test('a body\'s bytes are its UTF-8, encoded once, and count against the bound', () => {
    const cache = new BodyCache(4000);
    const entry = cache.set('k', '{\n  "name": "Zoë 🎉"\n}');
    const bytes = cache.bytes(entry);
    assert.equal(bytes.toString('utf8'), entry.text);
    assert.equal(bytes.length, Buffer.byteLength(entry.text));
    assert.equal(cache.bytes(entry), bytes, 'the same Buffer the second time');
    for (let i = 0; i < 200; i++) cache.set(`other${i}`, 'x'.repeat(30));
    assert.equal(cache.get('k'), undefined, 'evicted once newer bodies fill the bound');
  });

  test('a body as a list item is the body indented to the depth of a list\'s data, worked out once', () => {
    const cache = new BodyCache();
    const entry = cache.set('k', JSON.stringify({ id: 'cus_1', object: 'customer', metadata: { a: 'x\ny' } }, null, 2));
    const item = cache.inList(entry);
    assert.equal(item, entry.text.replace(/\n/g, '\n    '));
    assert.equal(cache.inList(entry), item);
    // Spliced into a list envelope, it is the text JSON.stringify gives for the whole list.
    const list = { object: 'list', data: [JSON.parse(entry.text), JSON.parse(entry.text)], has_more: false, url: '/v1/customers' };
    const envelope = JSON.stringify({ ...list, data: ['ITEMS'] }, null, 2);
    assert.equal(envelope.replace('"ITEMS"', [item, item].join(',\n    ')), JSON.stringify(list, null, 2));
  });

  test('keys tell accounts, rows, versions and API versions apart', () => {
    const cache = new BodyCache();
    const a = cache.key('acct_1', stored(7), '2026-10-28.endive');
    assert.notEqual(a, cache.key('acct_2', stored(7), '2026-10-28.endive'));
    assert.notEqual(a, cache.key('acct_1', stored(8), '2026-10-28.endive'));
    assert.notEqual(a, cache.key('acct_1', { ...stored(7), version: 2 }, '2026-10-28.endive'));
    assert.notEqual(a, cache.key('acct_1', stored(7), '2020-08-27'));
  });
});

describe('stored row cache', () => {
  const scope = { account: 'acct_1', livemode: false };
  const row = (i: number) => ({ id: `cus_${i}`, type: 'customer', created: 1, seq: i, version: 1, deleted: false });

  test('a row read between insertions stays cached while cold ones are evicted, within the entry bound', () => {
    const cache = new RowCache(50, 1 << 20);
    const hot = RowCache.key(scope, 'cus_0');
    cache.set(hot, row(0), '{"id":"cus_0"}');
    for (let i = 1; i <= 500; i++) {
      cache.set(RowCache.key(scope, `cus_${i}`), row(i), `{"id":"cus_${i}"}`);
      assert.equal(cache.get(hot)?.id, 'cus_0', `the hot row after ${i} others`);
    }
    let kept = 0;
    for (let i = 1; i <= 500; i++) if (cache.get(RowCache.key(scope, `cus_${i}`))) kept++;
    assert.ok(kept < 50, `${kept} cold rows kept beside the hot one`);
    assert.equal(cache.get(RowCache.key(scope, 'cus_1')), undefined);
  });

  test('each hit is a fresh object parsed from the row text; modes and accounts are apart', () => {
    const cache = new RowCache();
    const key = RowCache.key(scope, 'cus_1');
    cache.set(key, row(1), '{"id":"cus_1","name":"A"}');
    const first = cache.get(key)!;
    first.data.name = 'changed by a caller';
    assert.equal(cache.get(key)!.data.name, 'A');
    assert.equal(cache.get(RowCache.key({ ...scope, livemode: true }, 'cus_1')), undefined);
    assert.equal(cache.get(RowCache.key({ ...scope, account: 'acct_2' }, 'cus_1')), undefined);
  });
});
