// The Store contract, on whichever backend the run selects: transactions that run at the same
// time (on SQLite, several share one group commit) stay independent — a failing one leaves no
// trace and does not take the others down; after-commit hooks run only for committed work;
// objects read back lazily are the objects written.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, openSync, readSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';
import { openStore } from '../src/store/open.js';
import { IdempotencyTaken, type Scope, type Store } from '../src/store/store.js';
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
/** Runs fn with a fresh data directory of its own, removed afterwards. */
async function withDataDir(prefix: string, fn: (dir: string) => Promise<void>): Promise<void> {
  const d = mkdtempSync(join(tmpdir(), prefix));
  try { await fn(d); } finally { rmSync(d, { recursive: true, force: true }); }
}
/** Two embedded stores on one file, as two processes sharing a data directory would have. */
const withTwoStoresOnOneFile = (prefix: string, fn: (a: Store, b: Store) => Promise<void>) => withDataDir(prefix, async (d) => {
  const a = await openStore({ dataDir: d });
  const b = await openStore({ dataDir: d });
  try { await fn(a, b); } finally { await a.close(); await b.close(); }
});
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

  test('when one transaction of a batch fails, each of the others is applied exactly once', async () => {
    const s = scope();
    await store.transaction(async (tx) => { await tx.insert(s, { ...obj('counter', 0), data: { id: 'counter', object: 'thing', n: 0, seen: [] } }); });
    const results = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => store.transaction(async (tx) => {
      const c = (await tx.getForUpdate(s, 'counter'))!;
      await tx.update(s, { id: 'counter', version: c.version, data: { ...c.data, n: c.data.n + 1, seen: [...c.data.seen, i] }, index: [] });
      if (i === 6) throw new Error('late failure, after its write');
      return c.data.n + 1;
    })));
    // (The order is the queue's on SQLite; PostgreSQL runs them side by side on row locks.)
    assert.equal(results[6]!.status, 'rejected');
    const values = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    assert.deepEqual(values.sort((a, b) => a - b), [1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const c = (await store.get(s, 'counter'))!;
    assert.equal(c.data.n, 9);
    assert.deepEqual([...c.data.seen].sort(), [0, 1, 2, 3, 4, 5, 7, 8, 9]);
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

describe('closing the store', () => {
  test('a transaction queued just before close still commits; one begun after close is refused', async () => {
    await withDataDir('pinstripe-store-close-', async (closingDir) => {
      const s = scope();
      const closing = await openStore({ dataDir: closingDir, databaseUrl: DATABASE_URL });
      const queued = closing.transaction(async (tx) => { await tx.insert(s, obj('thing_last', 1)); return 'done'; });
      await closing.close(); // a graceful shutdown: SIGTERM while requests are in flight
      assert.equal(await queued, 'done');
      await assert.rejects(closing.transaction(async () => 'late'));
      const reopened = await openStore({ dataDir: closingDir, databaseUrl: DATABASE_URL });
      try {
        assert.equal((await reopened.get(s, 'thing_last'))?.data.n, 1);
      } finally {
        await reopened.close();
      }
    });
  });
});

describe('embedded store WAL under a steady write load', () => {
  // Bytes 12-15 of a WAL file's header count how many times SQLite has started the WAL over.
  const walRestarts = (d: string) => {
    const fd = openSync(join(d, 'pinstripe.sqlite-wal'), 'r');
    try {
      const header = Buffer.alloc(16);
      readSync(fd, header, 0, 16, 0);
      return header.readUInt32BE(12);
    } finally { closeSync(fd); }
  };
  test('the WAL starts over while writes never pause, so it is rewritten in place instead of growing', { skip: DATABASE_URL ? 'SQLite only' : false }, async () => {
    await withDataDir('pinstripe-wal-', async (d) => {
      const s = scope();
      const busy = await openStore({ dataDir: d });
      try {
        const payload = 'x'.repeat(4000);
        let n = 0;
        await busy.transaction(async (tx) => { await tx.insert(s, obj(`thing_${n}`, n++)); });
        const before = walRestarts(d);
        // Back-to-back transactions of about 4 KB each, so the checkpoint worker never finds the
        // WAL idle, until it has started over twice (a checkpoint period is 250 ms; a loaded
        // machine gets up to 5 s).
        const until = Date.now() + 5000;
        while (Date.now() < until && walRestarts(d) < before + 2) {
          await Promise.all(Array.from({ length: 8 }, () => busy.transaction(async (tx) => {
            const id = `thing_${n}`;
            await tx.insert(s, { ...obj(id, n++), data: { id, object: 'thing', payload } });
          })));
        }
        // Without the store's help (sqlite-checkpointer.ts) it never does until the writes stop.
        assert.ok(walRestarts(d) >= before + 2, `the WAL started over ${walRestarts(d) - before} times in 5 s of writes`);
        assert.equal((await busy.get(s, 'thing_1'))?.data.payload, payload);
      } finally {
        await busy.close();
      }
    });
  });
});

describe('index entries on update', () => {
  const ids = async (s: Scope, field: string, value: string) =>
    (await store.scan(s, { type: 'thing', index: { field, value }, direction: 'older', limit: 10 })).map((r) => r.id);

  test('an update moves an object between index results only for the entries that changed', async () => {
    const s = scope();
    await store.transaction(async (tx) => {
      await tx.insert(s, { ...obj('thing_a', 1), index: [{ field: 'color', value: 'red' }, { field: 'size', value: 'L' }, { field: 'size', value: 'L' }] });
      await tx.insert(s, { ...obj('thing_b', 2), index: [{ field: 'color', value: 'red' }] });
    });
    assert.deepEqual(await ids(s, 'color', 'red'), ['thing_b', 'thing_a']);
    assert.deepEqual(await ids(s, 'size', 'L'), ['thing_a']); // a repeated entry is one entry
    const update = (id: string, index: Array<{ field: string; value: string }>, deleted = false) => store.transaction(async (tx) => {
      const cur = (await tx.getForUpdate(s, id))!;
      return tx.update(s, { id, version: cur.version, data: { ...cur.data, v: cur.version }, index, deleted });
    });
    const moved = await update('thing_a', [{ field: 'color', value: 'blue' }, { field: 'size', value: 'L' }]);
    assert.equal(moved.version, 2);
    assert.deepEqual(await ids(s, 'color', 'red'), ['thing_b']);
    assert.deepEqual(await ids(s, 'color', 'blue'), ['thing_a']);
    assert.deepEqual(await ids(s, 'size', 'L'), ['thing_a']);
    // Same entries (in another order): still found, once.
    await update('thing_a', [{ field: 'size', value: 'L' }, { field: 'color', value: 'blue' }]);
    assert.deepEqual(await ids(s, 'color', 'blue'), ['thing_a']);
    assert.deepEqual(await ids(s, 'size', 'L'), ['thing_a']);
    assert.equal((await store.get(s, 'thing_a'))?.version, 3);
    // Entries dropped and added; the page order (created, seq) is the insert's.
    await update('thing_a', [{ field: 'color', value: 'red' }]);
    assert.deepEqual(await ids(s, 'color', 'red'), ['thing_b', 'thing_a']);
    assert.deepEqual(await ids(s, 'size', 'L'), []);
    assert.deepEqual(await ids(s, 'color', 'blue'), []);
    // A rolled-back update leaves the entries as they were.
    await assert.rejects(store.transaction(async (tx) => {
      const cur = (await tx.getForUpdate(s, 'thing_b'))!;
      await tx.update(s, { id: 'thing_b', version: cur.version, data: cur.data, index: [{ field: 'color', value: 'green' }] });
      throw new Error('undo');
    }), /undo/);
    assert.deepEqual(await ids(s, 'color', 'green'), []);
    assert.deepEqual(await ids(s, 'color', 'red'), ['thing_b', 'thing_a']);
    // A tombstone leaves every index.
    await update('thing_b', [{ field: 'color', value: 'red' }], true);
    assert.equal(await store.count(s, { type: 'thing', index: { field: 'color', value: 'red' }, includeDeleted: true }), 1);
    assert.deepEqual(await ids(s, 'color', 'red'), ['thing_a']);
  });
});

describe('object_index written behind the objects (embedded store)', () => {
  const sqliteOnly = { skip: DATABASE_URL ? 'SQLite only: PostgreSQL writes entries with the object' : false };
  /** The store's mark and highest seq, read on a connection of the test's own. */
  const progress = (d: string) => {
    const db = new Database(join(d, 'pinstripe.sqlite'), { readonly: true });
    try {
      return {
        mark: db.prepare("SELECT value FROM store_meta WHERE key = 'indexed_through'").pluck().get() as number,
        maxSeq: (db.prepare('SELECT max(seq) FROM objects').pluck().get() as number | null) ?? 0,
        entries: db.prepare('SELECT count(*) FROM object_index').pluck().get() as number,
      };
    } finally { db.close(); }
  };
  const idsOf = async (st: Store | { scan: Store['scan'] }, s: Scope, value: string) =>
    (await st.scan(s, { type: 'thing', index: { field: 'color', value }, direction: 'older', limit: 50 })).map((r) => r.id);
  const colored = (id: string, n: number, color: string) => ({ ...obj(id, n), index: [{ field: 'color', value: color }] });

  test('lists find objects not yet indexed, in and out of transactions; updates and rollbacks of them are indexed as committed', sqliteOnly, async () => {
    await withDataDir('pinstripe-deferred-index-', async (d) => {
      const st = await openStore({ dataDir: d });
      try {
        const s = scope();
        await st.transaction(async (tx) => {
          await tx.insert(s, colored('thing_1', 1, 'red'));
          await tx.insert(s, colored('thing_2', 2, 'red'));
        });
        // Written, not yet in object_index.
        let p = progress(d);
        assert.ok(p.mark < p.maxSeq && p.entries === 0, JSON.stringify(p));
        // An update before the catch-up changes what will be indexed, a tombstone leaves nothing.
        await st.transaction(async (tx) => {
          const one = (await tx.getForUpdate(s, 'thing_1'))!;
          await tx.update(s, { id: one.id, version: one.version, data: one.data, index: [{ field: 'color', value: 'blue' }] });
          await tx.insert(s, colored('thing_3', 3, 'red'));
          const three = (await tx.getForUpdate(s, 'thing_3'))!;
          await tx.update(s, { id: three.id, version: three.version, data: three.data, index: [], deleted: true });
          // Inside the transaction, its own unindexed writes are found.
          assert.deepEqual((await tx.scan(s, { type: 'thing', index: { field: 'color', value: 'blue' }, direction: 'older', limit: 10 })).map((r) => r.id), ['thing_1']);
        });
        // A job rolled back within a batch leaves no entry, though its seq is used again.
        const results = await Promise.allSettled([
          st.transaction(async (tx) => { await tx.insert(s, colored('thing_gone', 4, 'green')); throw new Error('undo'); }),
          st.transaction(async (tx) => { await tx.insert(s, colored('thing_5', 5, 'red')); }),
        ]);
        assert.equal(results[0].status, 'rejected');
        assert.equal(results[1].status, 'fulfilled');
        assert.deepEqual(await idsOf(st, s, 'red'), ['thing_5', 'thing_2']);
        assert.deepEqual(await idsOf(st, s, 'blue'), ['thing_1']);
        assert.deepEqual(await idsOf(st, s, 'green'), []);
        p = progress(d);
        assert.equal(p.mark, p.maxSeq);
        assert.equal(p.entries, 3);
        // Once indexed, an update moves the entries themselves.
        await st.transaction(async (tx) => {
          const two = (await tx.getForUpdate(s, 'thing_2'))!;
          await tx.update(s, { id: two.id, version: two.version, data: two.data, index: [{ field: 'color', value: 'blue' }] });
        });
        assert.deepEqual(await idsOf(st, s, 'blue'), ['thing_2', 'thing_1']);
        assert.equal(await st.count(s, { type: 'thing', index: { field: 'color', value: 'red' } }), 1);
      } finally { await st.close(); }
      // What waits at close is indexed by the next store to open the file.
      const again = await openStore({ dataDir: d });
      try {
        const s = scope();
        await again.transaction(async (tx) => { await tx.insert(s, colored('thing_later', 1, 'red')); });
        await again.close();
        const third = await openStore({ dataDir: d });
        try { assert.deepEqual(await idsOf(third, s, 'red'), ['thing_later']); } finally { await third.close(); }
      } catch (e) { await again.close().catch(() => {}); throw e; }
    });
  });

  test('another store on the file finds and indexes what one wrote; the writer then moves entries the other indexed', sqliteOnly, async () => {
    await withTwoStoresOnOneFile('pinstripe-deferred-shared-', async (a, b) => {
      const s = scope();
      await a.transaction(async (tx) => { await tx.insert(s, colored('thing_a1', 1, 'red')); });
      await new Promise((r) => setImmediate(r));
      assert.deepEqual(await idsOf(b, s, 'red'), ['thing_a1']); // b catches up a's object
      await new Promise((r) => setImmediate(r));
      await a.transaction(async (tx) => {
        const cur = (await tx.getForUpdate(s, 'thing_a1'))!;
        await tx.update(s, { id: cur.id, version: cur.version, data: cur.data, index: [{ field: 'color', value: 'blue' }] });
      });
      await new Promise((r) => setImmediate(r));
      for (const st of [a, b]) {
        assert.deepEqual(await idsOf(st, s, 'red'), []);
        assert.deepEqual(await idsOf(st, s, 'blue'), ['thing_a1']);
      }
    });
  });

  test('the index catches up by itself: at once after a few hundred objects, shortly after a few', sqliteOnly, async () => {
    await withDataDir('pinstripe-deferred-bg-', async (d) => {
      const st = await openStore({ dataDir: d });
      try {
        const s = scope();
        await st.transaction(async (tx) => { for (let i = 0; i < 300; i++) await tx.insert(s, colored(`thing_m${i}`, i, 'red')); });
        const until = async (ok: () => boolean) => { for (let i = 0; i < 100 && !ok(); i++) await new Promise((r) => setTimeout(r, 10)); };
        await until(() => progress(d).entries === 300);
        assert.equal(progress(d).entries, 300);
        await st.transaction(async (tx) => { await tx.insert(s, colored('thing_few', 1000, 'red')); });
        await until(() => progress(d).entries === 301);
        const p = progress(d);
        assert.equal(p.entries, 301);
        assert.equal(p.mark, p.maxSeq);
      } finally { await st.close(); }
    });
  });
});

describe('embedded store schema', () => {
  test('a data directory of the previous schema is migrated at open and its objects stay findable', { skip: DATABASE_URL ? 'SQLite only' : false }, async () => {
    const old = mkdtempSync(join(tmpdir(), 'pinstripe-old-schema-'));
    const { default: Database } = await import('better-sqlite3');
    const raw = new Database(join(old, 'pinstripe.sqlite'));
    raw.pragma('journal_mode = WAL');
    // The schema before user_version 1: a rowid object_index with lookup and by-seq indexes.
    raw.exec(`
      CREATE TABLE objects (seq INTEGER PRIMARY KEY AUTOINCREMENT, account TEXT NOT NULL, livemode INTEGER NOT NULL, id TEXT NOT NULL,
        type TEXT NOT NULL, created INTEGER NOT NULL, version INTEGER NOT NULL, deleted INTEGER NOT NULL DEFAULT 0, data TEXT NOT NULL);
      CREATE UNIQUE INDEX objects_by_id ON objects(account, livemode, id);
      CREATE INDEX objects_by_type ON objects(account, livemode, type, deleted, created, seq);
      CREATE TABLE object_index (seq INTEGER NOT NULL, account TEXT NOT NULL, livemode INTEGER NOT NULL, type TEXT NOT NULL,
        field TEXT NOT NULL, value TEXT NOT NULL, created INTEGER NOT NULL);
      CREATE INDEX object_index_lookup ON object_index(account, livemode, type, field, value, created, seq);
      CREATE INDEX object_index_by_seq ON object_index(seq);
      CREATE TABLE idempotency (account TEXT NOT NULL, livemode INTEGER NOT NULL, key TEXT NOT NULL, request_hash TEXT NOT NULL, state TEXT NOT NULL,
        status INTEGER, body TEXT, created_ms INTEGER NOT NULL, locked_until_ms INTEGER NOT NULL, PRIMARY KEY (account, livemode, key));
    `);
    const s = scope();
    const put = raw.prepare('INSERT INTO objects (account, livemode, id, type, created, version, deleted, data) VALUES (?, 0, ?, ?, ?, 1, 0, ?)');
    const ix = raw.prepare('INSERT INTO object_index (seq, account, livemode, type, field, value, created) VALUES (?, ?, 0, ?, ?, ?, ?)');
    for (let i = 0; i < 3; i++) {
      const id = `cus_old${i}`;
      const email = i === 2 ? 'Other@Example.com' : 'old@example.com';
      const data = { id, object: 'customer', created: 1_700_000_000 + i, email, livemode: false, test_clock: null };
      const seq = Number(put.run(s.account, id, 'customer', data.created, JSON.stringify(data)).lastInsertRowid);
      ix.run(seq, s.account, 'customer', 'email', email, data.created); // the old code's two entries per email
      ix.run(seq, s.account, 'customer', 'search:email', email.toLowerCase(), data.created);
    }
    put.run(s.account, 'thing_plain', 'thing', 1_700_000_100, JSON.stringify({ id: 'thing_plain' }));
    // A recorded idempotent response (schema 1 kept them in this table too, keyed by the key).
    const recordedAt = Date.now() - 1000;
    raw.prepare("INSERT INTO idempotency VALUES (?, 0, 'old-key', 'hash-old', 'done', 200, '{\"id\": \"cus_old0\"}', ?, 0)").run(s.account, recordedAt);
    raw.close();

    const migrated = await openStore({ dataDir: old });
    const again = await openStore({ dataDir: old }); // a second process opening a migrated file changes nothing
    try {
      const { customers } = await import('../src/resources/customers.js');
      const plan = customers.listFilters!({ email: 'old@example.com' });
      const listed = (await migrated.scan(s, { type: 'customer', index: plan.index, direction: 'older', limit: 10 })).filter((r) => plan.filter!(r.data));
      assert.deepEqual(listed.map((r) => r.id), ['cus_old1', 'cus_old0']);
      const searched = await migrated.scan(s, { type: 'customer', index: { field: 'search:email', value: 'other@example.com' }, direction: 'older', limit: 10 });
      assert.deepEqual(searched.map((r) => r.id), ['cus_old2']);
      assert.deepEqual((await again.scan(s, { type: 'customer', indexPrefix: { field: 'email', prefix: 'old@' }, direction: 'newer', limit: 10 })).map((r) => r.id), ['cus_old0', 'cus_old1']);
      // Updating a migrated object replaces its old entries (both of them) as it would a new one's.
      await migrated.transaction(async (tx) => {
        const cur = (await tx.getForUpdate(s, 'cus_old0'))!;
        await tx.update(s, { id: cur.id, version: cur.version, data: { ...cur.data, email: 'new@example.com' }, index: [{ field: 'search:email', value: 'new@example.com' }] });
        const plain = (await tx.getForUpdate(s, 'thing_plain'))!;
        await tx.update(s, { id: plain.id, version: plain.version, data: plain.data, index: [{ field: 'k', value: 'v' }] });
      });
      assert.equal(await migrated.count(s, { type: 'customer', index: { field: 'email', value: 'old@example.com' } }), 1);
      assert.equal(await migrated.count(s, { type: 'customer', index: { field: 'search:email', value: 'old@example.com' } }), 1);
      assert.equal(await migrated.count(s, { type: 'customer', index: { field: 'search:email', value: 'new@example.com' } }), 1);
      assert.equal(await migrated.count(s, { type: 'thing', index: { field: 'k', value: 'v' } }), 1);
      // The recorded response is still the answer to its key, in both processes.
      for (const store of [migrated, again]) {
        const claim = await store.claimIdempotency(s, 'old-key', 'hash-old', Date.now(), 60_000);
        assert.equal(claim.kind, 'existing');
        if (claim.kind === 'existing') assert.deepEqual([claim.record.status, claim.record.body, claim.record.createdMs], [200, '{"id": "cus_old0"}', recordedAt]);
      }
    } finally {
      await migrated.close();
      await again.close();
    }
    const check = new Database(join(old, 'pinstripe.sqlite'), { readonly: true });
    try {
      assert.equal(check.pragma('user_version', { simple: true }), 3);
      assert.equal((check.prepare("SELECT count(*) AS n FROM sqlite_master WHERE name = 'idempotency'").get() as { n: number }).n, 0);
      const names = (check.prepare("SELECT name FROM sqlite_master WHERE tbl_name = 'object_index'").all() as Array<{ name: string }>).map((r) => r.name);
      assert.ok(!names.includes('object_index_by_seq') && !names.includes('object_index_lookup'), names.join(','));
      assert.match((check.prepare("SELECT sql FROM sqlite_master WHERE name = 'object_index'").get() as { sql: string }).sql, /WITHOUT ROWID/);
    } finally {
      check.close();
      rmSync(old, { recursive: true, force: true });
    }
  });
});

describe('embedded store shared by two processes', () => {
  test('a row cached by one store is refreshed once another store on the same file commits', { skip: DATABASE_URL ? 'SQLite only: PostgreSQL has no row cache' : false }, async () => {
    await withTwoStoresOnOneFile('pinstripe-shared-store-', async (a, b) => {
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
    });
  });
});

describe('change epochs for caches kept across transactions', () => {
  test('the epoch of a type moves when one is written (and when that batch ends), when another store on the file commits, and not for other types', { skip: DATABASE_URL ? 'SQLite only: PostgreSQL reports no epochs' : false }, async () => {
    await withTwoStoresOnOneFile('pinstripe-epoch-', async (a, b) => {
      const s = scope();
      const epochOf = (store: Store) => store.transaction(async (tx) => tx.changeEpoch!('webhook_endpoint'));
      const e0 = await epochOf(a);
      assert.equal(await epochOf(a), e0, 'nothing written');
      await a.transaction(async (tx) => { await tx.insert(s, obj('thing_other', 1)); });
      assert.equal(await epochOf(a), e0, 'another type written');
      let inside = 0;
      await a.transaction(async (tx) => {
        await tx.insert(s, { ...obj('we_1', 1), type: 'webhook_endpoint' });
        inside = tx.changeEpoch!('webhook_endpoint');
      });
      assert.notEqual(inside, e0, 'moved by the write, inside its transaction');
      const e1 = await epochOf(a);
      assert.notEqual(e1, inside, 'moved again when the batch ended (what it read was uncommitted)');
      await assert.rejects(a.transaction(async (tx) => { await tx.insert(s, { ...obj('we_2', 2), type: 'webhook_endpoint' }); throw new Error('rolled back'); }));
      const e2 = await epochOf(a);
      assert.notEqual(e2, e1, 'a rolled-back write moves it too');
      await b.transaction(async (tx) => { await tx.insert(s, obj('thing_from_b', 3)); });
      assert.notEqual(await epochOf(a), e2, 'another store committed');
    });
  });
});

describe('idempotency records', () => {
  const claim = (st: Store, s: Scope, key: string) => st.claimIdempotency(s, key, 'hash', Date.now(), 60_000);
  const recordVia = async (st: Store, s: Scope, key: string, body: string) => {
    assert.equal((await claim(st, s, key)).kind, 'claimed');
    await st.transaction(async (tx) => tx.finishIdempotency(s, key, 200, body));
  };

  test('a recorded response answers its key, not another key or account; expiry forgets it and frees the key', async () => {
    const s = scope();
    await recordVia(store, s, 'key-one', '{"n": 1}');
    const again = await claim(store, s, 'key-one');
    assert.equal(again.kind === 'existing' && again.record.body, '{"n": 1}');
    assert.equal((await claim(store, s, 'key-two')).kind, 'claimed');
    await store.releaseIdempotency(s, 'key-two');
    const other = scope();
    assert.equal((await claim(store, other, 'key-one')).kind, 'claimed');
    await store.releaseIdempotency(other, 'key-one');
    // Past the 24 hours a key is new again. (Not on PostgreSQL: expiry is database-wide, and other
    // test files share the database.)
    if (DATABASE_URL) return;
    assert.ok(await store.expireIdempotency(Date.now() + 1000) >= 1);
    await recordVia(store, s, 'key-one', '{"n": 2}');
    const fresh = await claim(store, s, 'key-one');
    assert.equal(fresh.kind === 'existing' && fresh.record.body, '{"n": 2}');
  });

  test('a key answered through another store on the same file is found there, before and while executing', { skip: DATABASE_URL ? 'SQLite only: two stores on one file' : false }, async () => {
    await withTwoStoresOnOneFile('pinstripe-shared-idem-', async (a, b) => {
      const s = scope();
      // Recorded by a, then asked of b: b reads a's record in.
      await recordVia(a, s, 'across', '{"by": "a"}');
      await new Promise((r) => setImmediate(r));
      const seen = await claim(b, s, 'across');
      assert.equal(seen.kind === 'existing' && seen.record.body, '{"by": "a"}');
      // Claimed by both before either recorded: the second to record learns the first's answer.
      assert.equal((await claim(a, s, 'race')).kind, 'claimed');
      assert.equal((await claim(b, s, 'race')).kind, 'claimed');
      await a.transaction(async (tx) => tx.finishIdempotency(s, 'race', 200, '{"by": "a"}'));
      await assert.rejects(
        b.transaction(async (tx) => { await tx.insert(s, obj('thing_from_b', 1)); await tx.finishIdempotency(s, 'race', 200, '{"by": "b"}'); }),
        (err: any) => err instanceof IdempotencyTaken && err.record.body === '{"by": "a"}',
      );
      assert.equal(await b.get(s, 'thing_from_b'), null, "b's own work was rolled back");
      // Expired by one store, the key is free in the other.
      await b.releaseIdempotency(s, 'race');
      await a.expireIdempotency(Date.now() + 1000);
      await new Promise((r) => setImmediate(r));
      assert.equal((await claim(b, s, 'across')).kind, 'claimed');
    });
  });

  test('records survive a restart', { skip: DATABASE_URL ? 'SQLite only' : false }, async () => {
    await withDataDir('pinstripe-idem-restart-', async (d) => {
      const s = scope();
      const first = await openStore({ dataDir: d });
      await recordVia(first, s, 'kept', '{"kept": true}');
      await first.close();
      const second = await openStore({ dataDir: d });
      try {
        const kept = await claim(second, s, 'kept');
        assert.equal(kept.kind === 'existing' && kept.record.body, '{"kept": true}');
      } finally {
        await second.close();
      }
    });
  });
});

describe('PostgreSQL store shared by several servers', () => {
  test('a server starting while another is in the middle of a write transaction opens without waiting for it', { skip: DATABASE_URL ? false : 'PostgreSQL only' }, async () => {
    // The schema exists (the suite's store created it); opening must not take table locks that
    // conflict with the running transaction (it used to block, and deadlock against some).
    const s = scope();
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let inside!: () => void;
    const started = new Promise<void>((r) => (inside = r));
    const writing = store.transaction(async (tx) => {
      await tx.insert(s, obj('thing_held', 1));
      inside();
      await held;
    });
    await started;
    try {
      const opening = openStore({ dataDir: dir, databaseUrl: DATABASE_URL });
      const second = await Promise.race([opening, new Promise<null>((r) => setTimeout(() => r(null), 3000))]);
      assert.ok(second, 'the second store did not open while a write transaction was running');
      await second.close();
    } finally {
      release();
      await writing;
    }
    assert.equal((await store.get(s, 'thing_held'))?.data.n, 1);
  });
});
