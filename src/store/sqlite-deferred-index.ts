// The embedded store's secondary index (object_index) is written behind the objects, in bulk.
//
// An object's index entries are always in its own row (objects.idx). Writing them into
// object_index at once, inside each group commit, was the costliest part of a payment in
// SQLite: its 13 entries land at 13 places in the middle of one B-tree (one per type, field
// and value), each place's leaf page is written to the WAL at every commit, and the leaves
// split often (a split rewrites up to three siblings). Measured by replaying a payment load:
// 11.1 WAL frames a payment with the entries, 7.6 without; 230 against 180 µs of server CPU.
//
// So object_index holds the entries of every object up to a sequence number
// (store_meta.indexed_through) and the objects past it are indexed later, many at a time,
// which writes each leaf once for hundreds of entries:
// - in the background, once a few hundred objects are waiting or the store has been quiet
//   for a moment (SqliteStore schedules the catch-up as a transaction of its own);
// - at once, before any read that goes through object_index for a type with objects waiting,
//   so lists and searches see every committed write, as before.
// An update of an object not yet indexed only rewrites objects.idx; the catch-up reads it.
// The mark lives in the database, so another process sharing the file (which notices our
// commits through PRAGMA data_version) catches up the same objects, under the write lock.
import type Database from 'better-sqlite3';
import type { IndexEntry, Scope } from './store.js';

const columns = (seq: number, scope: Scope, type: string, created: number, entries: IndexEntry[]): Columns => {
  const out: Columns = [];
  const lm = scope.livemode ? 1 : 0;
  for (const e of entries) out.push(scope.account, lm, type, e.field, e.value, created, seq);
  return out;
};

export const STORE_META_TABLE = `CREATE TABLE IF NOT EXISTS store_meta (
  key TEXT PRIMARY KEY,
  value INTEGER NOT NULL
) WITHOUT ROWID;`;

/** From schema version 2 and before: every existing object's entries are in object_index already. */
export const MARK_ALL_INDEXED = `INSERT OR REPLACE INTO store_meta (key, value) VALUES ('indexed_through', (SELECT coalesce(max(seq), 0) FROM objects));`;

/** Objects waiting before the store schedules a catch-up, and objects indexed by one catch-up at most. */
export const CATCH_UP_AT = 1024;
export const CATCH_UP_LIMIT = 4096;
/** How long a few waiting objects wait before they are indexed anyway. */
export const CATCH_UP_AFTER_MS = 50;
/** Entries per INSERT statement in a catch-up (fewer calls into SQLite). */
const ROWS_PER_INSERT = 32;

/** Entries of one object, as object_index columns: (account, livemode, type, field, value, created, seq) each. */
type Columns = unknown[];

export class DeferredIndex {
  /** Objects with seq <= mark have their entries in object_index. */
  private mark = 0;
  /** The highest seq written (by this process, or by another when last looked). */
  private maxSeq = 0;
  /** Types of the objects past the mark. */
  private types = new Set<string>();
  /** Another process may have written or caught up since the last look: re-read before use. */
  private stale = true;
  /**
   * The entries of the waiting objects this process wrote, by seq in write order, while they
   * are all of the waiting objects (`remembered`); a catch-up then reads nothing back.
   */
  private memory = new Map<number, Columns>();
  private remembered = false;

  constructor(private stmt: (sql: string) => Database.Statement) {}

  /** Re-reads the mark, the highest seq and the waiting types (on the writer connection). */
  private refresh(): void {
    this.stale = false;
    this.mark = (this.stmt("SELECT value FROM store_meta WHERE key = 'indexed_through'").pluck().get() as number | undefined) ?? 0;
    this.maxSeq = (this.stmt('SELECT max(seq) FROM objects').pluck().get() as number | null) ?? 0;
    this.types = this.maxSeq > this.mark
      ? new Set(this.stmt('SELECT DISTINCT type FROM objects WHERE seq > ?').pluck().all(this.mark) as string[])
      : new Set();
    this.forget();
  }

  /** What memory holds may not be all that waits (another process wrote, or a rollback): read it back instead. */
  private forget(): void {
    this.memory.clear();
    this.remembered = this.maxSeq <= this.mark;
  }

  /**
   * Another connection committed, or a rollback (of the batch or to a savepoint) undid what
   * this process noted (rolled-back inserts even leave their seqs to be used again:
   * AUTOINCREMENT rolls back too): what it knows is re-read before it is used next.
   */
  invalidate(): void { this.stale = true; }

  /** At the start of a write transaction (the write lock held): brings what is known up to date. */
  begin(): void { if (this.stale) this.refresh(); }

  /** A new object (its entries, without duplicates) was written. */
  noteInsert(seq: number, scope: Scope, type: string, created: number, entries: IndexEntry[]): void {
    if (this.stale) return; // the re-read finds it
    if (seq > this.maxSeq) this.maxSeq = seq;
    this.types.add(type);
    if (this.remembered) this.memory.set(seq, columns(seq, scope, type, created, entries));
  }

  /** An object not yet indexed was updated: its entries are now these. */
  noteUpdate(seq: number, scope: Scope, type: string, created: number, entries: IndexEntry[]): void {
    if (this.stale || !this.remembered) return;
    if (this.memory.has(seq)) this.memory.set(seq, columns(seq, scope, type, created, entries));
    else this.forget();
  }

  /** Whether the object's entries are in object_index (so an update must change them there). */
  isIndexed(seq: number): boolean {
    if (this.stale) this.refresh();
    return seq <= this.mark;
  }

  /** Objects waiting (as far as this process knows). */
  waiting(): number { return this.maxSeq - this.mark; }

  /** Outside a transaction: whether a read of the type through object_index may need a catch-up first. */
  mayWaitFor(type: string): boolean { return this.stale || this.types.has(type); }

  /** Inside a write transaction, before a read through object_index: indexes what waits, if any of the type does. */
  ensure(type: string): void {
    if (this.stale) this.refresh();
    if (this.types.has(type)) this.catchUp(Infinity);
  }

  /** Inside a write transaction: indexes up to `limit` waiting objects, oldest first, and moves the mark. */
  catchUp(limit: number): void {
    if (this.stale) this.refresh();
    if (this.maxSeq <= this.mark) return;
    if (this.remembered) return this.catchUpFromMemory(limit);
    const bounded = Number.isFinite(limit);
    const rows = (bounded
      ? this.stmt(`SELECT seq, account, livemode, type, created, idx FROM objects WHERE seq > ? ORDER BY seq LIMIT ${Math.max(1, Math.trunc(limit))}`).all(this.mark)
      : this.stmt('SELECT seq, account, livemode, type, created, idx FROM objects WHERE seq > ? ORDER BY seq').all(this.mark)) as Array<{ seq: number; account: string; livemode: number; type: string; created: number; idx: string }>;
    const values: unknown[] = [];
    for (const r of rows) {
      if (r.idx === '[]') continue;
      for (const [field, value] of JSON.parse(r.idx) as Array<[string, string]>) values.push(r.account, r.livemode, r.type, field, value, r.created, r.seq);
    }
    this.insertEntries(values);
    const partial = bounded && rows.length >= limit;
    this.moveMark(partial ? rows[rows.length - 1]!.seq : this.maxSeq);
  }

  private catchUpFromMemory(limit: number): void {
    const values: unknown[] = [];
    let taken = 0;
    let last = this.mark;
    for (const [seq, cols] of this.memory) {
      if (taken >= limit) break;
      for (let i = 0; i < cols.length; i++) values.push(cols[i]);
      this.memory.delete(seq);
      last = seq;
      taken++;
    }
    this.insertEntries(values);
    this.moveMark(this.memory.size > 0 ? last : this.maxSeq);
  }

  private moveMark(mark: number): void {
    this.stmt("INSERT OR REPLACE INTO store_meta (key, value) VALUES ('indexed_through', ?)").run(mark);
    this.mark = mark;
    if (mark >= this.maxSeq) { this.types.clear(); this.forget(); }
  }

  private insertEntries(values: unknown[]): void {
    const width = 7;
    const full = ROWS_PER_INSERT * width;
    let at = 0;
    if (values.length >= full) {
      const many = this.stmt(`INSERT OR IGNORE INTO object_index (account, livemode, type, field, value, created, seq) VALUES ${Array(ROWS_PER_INSERT).fill('(?, ?, ?, ?, ?, ?, ?)').join(', ')}`);
      for (; at + full <= values.length; at += full) many.run(values.slice(at, at + full));
    }
    const one = this.stmt('INSERT OR IGNORE INTO object_index (account, livemode, type, field, value, created, seq) VALUES (?, ?, ?, ?, ?, ?, ?)');
    for (; at < values.length; at += width) one.run(values.slice(at, at + width));
  }
}
