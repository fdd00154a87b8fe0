// The Store contract, on whichever backend the run selects: transactions that run at the same
// time (on SQLite, several share one group commit) stay independent — a failing one leaves no
// trace and does not take the others down; after-commit hooks run only for committed work;
// objects read back lazily are the objects written.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { openStore } from '../src/store/open.js';
import type { Scope, Store } from '../src/store/store.js';
import { DATABASE_URL } from './helpers/server.js';

let store: Store;
let dir: string;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pinstripe-store-'));
  store = await openStore({ dataDir: dir, databaseUrl: DATABASE_URL });
});
after(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const scope = (): Scope => ({ account: `acct_${randomBytes(8).toString('hex')}`, livemode: false });
const obj = (id: string, n: number) => ({ id, type: 'thing', created: 1_700_000_000 + n, data: { id, object: 'thing', n }, index: [{ field: 'n', value: String(n) }] });

describe('store transactions', () => {
  test('concurrent transactions commit independently: a failing one leaves nothing and spares the rest', async () => {
    const s = scope();
    const hooks: string[] = [];
    const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => store.transaction(async (tx) => {
      await tx.insert(s, obj(`thing_${i}`, i));
      tx.afterCommit(() => hooks.push(`thing_${i}`));
      if (i % 5 === 3) throw new Error(`boom ${i}`);
      return i;
    })));
    const failed = results.flatMap((r, i) => (r.status === 'rejected' ? [i] : []));
    assert.deepEqual(failed, [3, 8, 13, 18]);
    for (const i of failed) assert.match(String((results[i] as PromiseRejectedResult).reason), new RegExp(`boom ${i}`));
    for (let i = 0; i < 20; i++) {
      const found = await store.get(s, `thing_${i}`);
      if (failed.includes(i)) assert.equal(found, null, `thing_${i} was rolled back`);
      else assert.deepEqual(found?.data, { id: `thing_${i}`, object: 'thing', n: i });
    }
    assert.deepEqual(hooks.sort(), Array.from({ length: 20 }, (_, i) => i).filter((i) => !failed.includes(i)).map((i) => `thing_${i}`).sort());
    // Index entries of rolled-back inserts are gone too.
    assert.equal(await store.count(s, { type: 'thing', index: { field: 'n', value: '3' } }), 0);
    assert.equal(await store.count(s, { type: 'thing', index: { field: 'n', value: '4' } }), 1);
    assert.equal(await store.count(s, { type: 'thing' }), 16);
  });

  test('a transaction sees its own writes; others see them only once committed', async () => {
    const s = scope();
    await store.transaction(async (tx) => {
      await tx.insert(s, obj('thing_own', 1));
      assert.equal((await tx.get(s, 'thing_own'))?.data.n, 1);
    });
    assert.equal((await store.get(s, 'thing_own'))?.data.n, 1);
  });

  test('concurrent read-modify-write through getForUpdate loses no update', async () => {
    const s = scope();
    await store.transaction(async (tx) => { await tx.insert(s, obj('thing_counter', 0)); });
    await Promise.all(Array.from({ length: 25 }, () => store.transaction(async (tx) => {
      const cur = (await tx.getForUpdate(s, 'thing_counter'))!;
      await tx.update(s, { id: cur.id, version: cur.version, data: { ...cur.data, n: cur.data.n + 1 }, index: [] });
    })));
    const final = (await store.get(s, 'thing_counter'))!;
    assert.equal(final.data.n, 25);
    assert.equal(final.version, 26);
  });

  test('a stale version is refused (compare-and-swap)', async () => {
    const s = scope();
    await store.transaction(async (tx) => { await tx.insert(s, obj('thing_cas', 0)); });
    await assert.rejects(store.transaction(async (tx) => {
      await tx.update(s, { id: 'thing_cas', version: 7, data: { id: 'thing_cas', object: 'thing', n: 9 }, index: [] });
    }));
    assert.equal((await store.get(s, 'thing_cas'))?.data.n, 0);
  });
});

describe('embedded store shared by two processes', () => {
  test('a row cached by one store is refreshed once another store on the same file commits', { skip: DATABASE_URL ? 'SQLite only: PostgreSQL has no row cache' : false }, async () => {
    const shared = mkdtempSync(join(tmpdir(), 'pinstripe-shared-store-'));
    const a = await openStore({ dataDir: shared });
    const b = await openStore({ dataDir: shared });
    try {
      const s = scope();
      await a.transaction(async (tx) => { await tx.insert(s, obj('thing_shared', 1)); });
      assert.equal((await b.get(s, 'thing_shared'))?.data.n, 1); // b caches the row
      await a.transaction(async (tx) => {
        const cur = (await tx.getForUpdate(s, 'thing_shared'))!;
        await tx.update(s, { id: cur.id, version: cur.version, data: { ...cur.data, n: 2 }, index: [] });
      });
      await new Promise((r) => setImmediate(r)); // b looks for other writers once per event-loop turn
      assert.equal((await b.get(s, 'thing_shared'))?.data.n, 2);
      // b's own writes replace its cached row as soon as they commit.
      await b.transaction(async (tx) => {
        const cur = (await tx.getForUpdate(s, 'thing_shared'))!;
        await tx.update(s, { id: cur.id, version: cur.version, data: { ...cur.data, n: 3 }, index: [] });
      });
      assert.equal((await b.get(s, 'thing_shared'))?.data.n, 3);
      await new Promise((r) => setImmediate(r));
      assert.equal((await a.get(s, 'thing_shared'))?.data.n, 3);
    } finally {
      await a.close();
      await b.close();
      rmSync(shared, { recursive: true, force: true });
    }
  });
});
