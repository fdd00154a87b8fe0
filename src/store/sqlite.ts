// Embedded store: SQLite through better-sqlite3, WAL mode, in the data directory.
//
// better-sqlite3 is synchronous, but the Store interface is async (PostgreSQL). Two
// connections keep them apart: writes run one transaction at a time on the writer
// connection behind an async mutex (SQLite allows one writer anyway), while reads outside
// transactions use a reader connection, which in WAL mode only ever sees committed data.
// synchronous=NORMAL in WAL mode survives a process crash (kill -9): a commit is in the
// OS before the response is sent.
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { RowCache } from './read-cache.js';
import { Checkpointer } from './sqlite-checkpointer.js';
import { CATCH_UP_AFTER_MS, CATCH_UP_AT, CATCH_UP_LIMIT, DeferredIndex, MARK_ALL_INDEXED, STORE_META_TABLE } from './sqlite-deferred-index.js';
import { IDEMPOTENCY_LOG_TABLE, IdempotencyLog, MIGRATE_IDEMPOTENCY_FROM_1, keyHash } from './sqlite-idempotency.js';
import {
  ConflictError, IdempotencyTaken, MAX_CONFLICT_RETRIES, storedFromRow,
  type Delivery, type DeliveryUpdate, type NewDelivery,
  type AggregateQuery, type ClaimResult, type Cursor, type FieldAggregate, type IdempotencyRecord, type IndexEntry, type NewObject, type ObjectUpdate,
  type ScanQuery, type Scope, type Store, type StoredObject, type Timer, type Tx,
} from './store.js';

/**
 * Index entries are keyed by what lookups read, in lookup order, with no rowid and no other
 * index: one B-tree to write per entry. An update finds the entries to remove in the
 * object's own row (objects.idx), not through an index on seq.
 */
const OBJECT_INDEX_TABLE = `CREATE TABLE IF NOT EXISTS object_index (
  account TEXT NOT NULL,
  livemode INTEGER NOT NULL,
  type TEXT NOT NULL,
  field TEXT NOT NULL,
  value TEXT NOT NULL,
  created INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  PRIMARY KEY (account, livemode, type, field, value, created, seq)
) WITHOUT ROWID;`;

/**
 * PRAGMA user_version of the current schema: 1 = object_index WITHOUT ROWID plus objects.idx;
 * 2 = idempotency records in an append-only log (sqlite-idempotency.ts); 3 = object_index
 * written behind the objects, up to store_meta.indexed_through (sqlite-deferred-index.ts).
 */
const SCHEMA_VERSION = 3;

/**
 * From version 0 (object_index a rowid table with lookup and by-seq indexes, no objects.idx):
 * the entries move to the new table, and each object's row learns its entries.
 */
const MIGRATE_FROM_0 = `
ALTER TABLE objects ADD COLUMN idx TEXT NOT NULL DEFAULT '[]';
UPDATE objects SET idx = (SELECT json_group_array(json_array(i.field, i.value)) FROM object_index i WHERE i.seq = objects.seq)
  WHERE seq IN (SELECT seq FROM object_index);
${OBJECT_INDEX_TABLE.replace('object_index', 'object_index_v1')}
INSERT OR IGNORE INTO object_index_v1 (account, livemode, type, field, value, created, seq)
  SELECT account, livemode, type, field, value, created, seq FROM object_index;
DROP TABLE object_index;
ALTER TABLE object_index_v1 RENAME TO object_index;
`;

/** An object's index entries as stored in objects.idx, without duplicates. */
function encodeIndex(index: IndexEntry[]): { json: string; entries: IndexEntry[] } {
  if (index.length === 0) return { json: '[]', entries: index };
  let entries = index;
  if (index.length > 1) {
    const seen = new Set<string>();
    entries = index.filter((e) => { const k = `${e.field}\u0000${e.value}`; return seen.has(k) ? false : (seen.add(k), true); });
  }
  return { json: JSON.stringify(entries.map((e) => [e.field, e.value])), entries };
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS objects (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  account TEXT NOT NULL,
  livemode INTEGER NOT NULL,
  id TEXT NOT NULL,
  type TEXT NOT NULL,
  created INTEGER NOT NULL,
  version INTEGER NOT NULL,
  deleted INTEGER NOT NULL DEFAULT 0,
  data TEXT NOT NULL,
  idx TEXT NOT NULL DEFAULT '[]' -- the object's index entries, [[field, value], ...] (see encodeIndex)
);
CREATE UNIQUE INDEX IF NOT EXISTS objects_by_id ON objects(account, livemode, id);
CREATE INDEX IF NOT EXISTS objects_by_type ON objects(account, livemode, type, deleted, created, seq);
${OBJECT_INDEX_TABLE}
${STORE_META_TABLE}
${IDEMPOTENCY_LOG_TABLE}
CREATE TABLE IF NOT EXISTS webhook_deliveries (
  id TEXT PRIMARY KEY,
  account TEXT NOT NULL,
  livemode INTEGER NOT NULL,
  event_id TEXT NOT NULL,
  endpoint_id TEXT NOT NULL,
  state TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_ms INTEGER NOT NULL,
  lease_until_ms INTEGER NOT NULL DEFAULT 0,
  created_ms INTEGER NOT NULL,
  first_attempt_ms INTEGER,
  last_attempt_ms INTEGER,
  attempt_log TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX IF NOT EXISTS webhook_deliveries_due ON webhook_deliveries(state, next_attempt_ms);
CREATE INDEX IF NOT EXISTS webhook_deliveries_by_event ON webhook_deliveries(account, livemode, event_id);
CREATE INDEX IF NOT EXISTS webhook_deliveries_by_endpoint ON webhook_deliveries(account, livemode, endpoint_id, state);
CREATE TABLE IF NOT EXISTS timers (
  account TEXT NOT NULL,
  livemode INTEGER NOT NULL,
  kind TEXT NOT NULL,
  key TEXT NOT NULL,
  at INTEGER NOT NULL,
  test_clock TEXT NOT NULL, -- '' for real time
  PRIMARY KEY (account, livemode, kind, key)
);
CREATE INDEX IF NOT EXISTS timers_due ON timers(account, livemode, test_clock, at);
CREATE INDEX IF NOT EXISTS timers_real_time ON timers(test_clock, at);
`;

interface TimerRow { kind: string; key: string; at: number; test_clock: string }
const toTimer = (r: TimerRow): Timer => ({ kind: r.kind, key: r.key, at: r.at, testClock: r.test_clock === '' ? null : r.test_clock });

interface Row {
  seq: number; id: string; type: string; created: number; version: number; deleted: number; data: string;
}

interface DeliveryRow {
  id: string; account: string; livemode: number; event_id: string; endpoint_id: string; state: Delivery['state'];
  attempts: number; next_attempt_ms: number; lease_until_ms: number; created_ms: number; attempt_log: string;
}
const toDelivery = (r: DeliveryRow): Delivery => ({
  id: r.id, account: r.account, livemode: r.livemode === 1, eventId: r.event_id, endpointId: r.endpoint_id, state: r.state,
  attempts: r.attempts, nextAttemptMs: r.next_attempt_ms, leaseUntilMs: r.lease_until_ms, createdMs: r.created_ms,
  attemptLog: JSON.parse(r.attempt_log),
});

const toObject = (r: Row): StoredObject =>
  storedFromRow({ id: r.id, type: r.type, created: r.created, seq: r.seq, version: r.version, deleted: r.deleted === 1 }, r.data);

/** Whether a read goes through object_index (an exact or a prefix entry) rather than objects_by_type. */
const readsIndex = (q: { index?: unknown; indexPrefix?: unknown }) => !!(q.index || q.indexPrefix);

/** Builds the WHERE clause shared by scan and count. */
function scanSql(q: Partial<ScanQuery>, args: unknown[]): { from: string; where: string[] } {
  const where: string[] = [];
  let from: string;
  if (readsIndex(q)) {
    // Walk the secondary index in (created, seq) order and join back to the object.
    from = 'object_index i JOIN objects o ON o.seq = i.seq';
    where.push('i.account = ?', 'i.livemode = ?', 'i.type = ?');
    if (q.index) {
      where.push('i.field = ?', 'i.value = ?');
      args.push(q.index.field, q.index.value);
    } else {
      where.push('i.field = ?', 'i.value >= ?', 'i.value < ?');
      args.push(q.indexPrefix!.field, q.indexPrefix!.prefix, q.indexPrefix!.prefix + '\uffff');
    }
    if (!q.includeDeleted) where.push('o.deleted = 0');
  } else {
    from = 'objects o';
    where.push('o.account = ?', 'o.livemode = ?', 'o.type = ?');
    if (!q.includeDeleted) where.push('o.deleted = 0');
  }
  const c = readsIndex(q) ? 'i' : 'o';
  const cr = q.created;
  if (cr?.gt !== undefined) { where.push(`${c}.created > ?`); args.push(cr.gt); }
  if (cr?.gte !== undefined) { where.push(`${c}.created >= ?`); args.push(cr.gte); }
  if (cr?.lt !== undefined) { where.push(`${c}.created < ?`); args.push(cr.lt); }
  if (cr?.lte !== undefined) { where.push(`${c}.created <= ?`); args.push(cr.lte); }
  return { from, where };
}

/** Transactions committed together at most (bounds the latency one batch adds). */
const MAX_BATCH = 64;
/** Bytes the WAL file keeps when it starts over (PRAGMA journal_size_limit). */
const WAL_SIZE_LIMIT = 64 * 1024 * 1024;
/** Loop turns, and milliseconds, a drain may wait for more transactions to join its batch. */
const MAX_DEFERRED_TURNS = 6;
const MAX_DEFER_MS = 1;
const BATCH_STATS: number[] | null = process.env.PINSTRIPE_BATCH_STATS ? [] : null;
// PINSTRIPE_BATCH_STATS=1: a histogram of group-commit sizes (batch size: count) on exit, for tuning.
if (BATCH_STATS) process.on('exit', () => {
  let batches = 0;
  let jobs = 0;
  const hist: string[] = [];
  BATCH_STATS.forEach((count, size) => { batches += count; jobs += count * size; hist.push(`${size}:${count}`); });
  process.stderr.write(`batches ${batches} jobs ${jobs} mean ${(jobs / batches).toFixed(2)} hist ${hist.join(' ')}\n`);
});

interface TxJob {
  fn: (tx: Tx) => Promise<unknown>;
  resolve(value: unknown): void;
  reject(err: unknown): void;
}

const inFlightKey = (scope: Scope, key: string) => `${scope.livemode ? 'l' : 't'}${scope.account}\u0000${key}`;

class Mutex {
  private tail: Promise<void> = Promise.resolve();
  lock(): Promise<() => void> {
    let release!: () => void;
    const next = new Promise<void>((r) => (release = r));
    const prev = this.tail;
    this.tail = prev.then(() => next);
    return prev.then(() => release);
  }
}

export class SqliteStore implements Store {
  readonly kind = 'sqlite' as const;
  private writer: Database.Database;
  private reader: Database.Database;
  private mutex = new Mutex();
  private queue: TxJob[] = [];
  /** Idempotency keys whose requests are executing in this process. */
  /** Claims of requests executing in this process, with their key's hash in the idempotency log. */
  private inFlight = new Map<string, { requestHash: string; createdMs: number; hash: number; generation: number }>();
  /** Recently read rows (see read-cache.ts) and the keys the running batch has written. */
  private rows = new RowCache();
  private written: string[] = [];
  private dataVersion: Database.Statement;
  private lastDataVersion = -1;
  private checkedThisTurn = false;
  private drainScheduled = false;
  private deferredTurns = 0;
  private deferStart = 0;
  private seenQueued = 0;
  private expectedBatch = 1;
  private stmtCache = new Map<string, Database.Statement>();
  private readerStmtCache = new Map<string, Database.Statement>();
  private checkpointer: Checkpointer | null = null;
  private closed = false;
  /**
   * Types whose changes changeEpoch reports, and the epoch: bumped when one of them is written
   * (and again when that batch ends, so what was read from its uncommitted state is not kept)
   * and when another process has committed.
   */
  private watchedTypes = new Set<string>();
  private epoch = 0;
  private batchWroteWatched = false;
  /** The checkpoint worker has copied the WAL: copy what was written meanwhile before the next batch (see sqlite-checkpointer.ts). */
  private walTailDue = false;
  /** Idempotency records by key hash (sqlite-idempotency.ts), on the writer connection. */
  private idempotency: IdempotencyLog;
  /** Another process may have appended idempotency records since the last catch-up. */
  private idempotencyStale = false;
  /** object_index, written behind the objects (sqlite-deferred-index.ts), and its scheduled catch-up. */
  private deferred: DeferredIndex;
  private catchUpQueued = false;
  private catchUpTimer: NodeJS.Timeout | null = null;

  constructor(dir: string, filename = 'pinstripe.sqlite') {
    mkdirSync(dir, { recursive: true });
    const file = join(dir, filename);
    this.writer = new Database(file);
    this.writer.pragma('journal_mode = WAL');
    this.writer.pragma('synchronous = NORMAL');
    // A job run in a savepoint (a batch run again after a failure, see runBatch) has SQLite
    // copy every page it touches into a sub-journal; past 64 KB that went to a temporary file,
    // one pwrite per page (measured: 19 of a customer create's 24 writes). In memory it is a memcpy.
    this.writer.pragma('temp_store = MEMORY');
    this.writer.pragma('busy_timeout = 5000');
    this.openSchema();
    this.reader = new Database(file, { readonly: true });
    this.reader.pragma('busy_timeout = 5000');
    this.dataVersion = this.writer.prepare('PRAGMA data_version').pluck();
    this.lastDataVersion = this.dataVersion.get() as number;
    this.idempotency = new IdempotencyLog((sql) => this.stmt(this.writer, sql));
    this.idempotency.catchUp();
    this.deferred = new DeferredIndex((sql) => this.stmt(this.writer, sql));
    // WAL checkpoints run on a worker thread (sqlite-checkpointer.ts), not inside a COMMIT.
    this.writer.pragma('wal_autocheckpoint = 0');
    // When the WAL starts over after a burst it is cut back to this size, not left at its peak.
    this.writer.pragma(`journal_size_limit = ${WAL_SIZE_LIMIT}`);
    this.checkpointer = new Checkpointer(file, () => { this.walTailDue = true; }, () => {
      this.checkpointer = null;
      if (this.writer.open) this.writer.pragma('wal_autocheckpoint = 1000');
    });
    // SQLite's default page cache (2 MB per connection) and no memory map: mapped pages of a
    // large store would count as the server's resident memory, for little speed.
  }

  /**
   * Creates the schema, or brings an older file up to date, in one write transaction: the
   * processes sharing a data directory wait for each other here, and a file is migrated once.
   */
  private openSchema(): void {
    const w = this.writer;
    w.exec('BEGIN IMMEDIATE');
    try {
      const version = w.pragma('user_version', { simple: true }) as number;
      if (version < SCHEMA_VERSION) {
        const hasTable = (name: string) => !!w.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name);
        if (hasTable('objects') && version === 0) w.exec(MIGRATE_FROM_0);
        w.exec(SCHEMA);
        if (hasTable('idempotency')) w.exec(MIGRATE_IDEMPOTENCY_FROM_1);
        w.exec(MARK_ALL_INDEXED);
        w.pragma(`user_version = ${SCHEMA_VERSION}`);
      } else {
        w.exec(SCHEMA);
      }
      w.exec('COMMIT');
    } catch (e) {
      if (w.inTransaction) w.exec('ROLLBACK');
      throw e;
    }
  }

  /** Transaction control through cached prepared statements (exec would re-parse the SQL each time). */
  private control(sql: 'BEGIN IMMEDIATE' | 'COMMIT' | 'ROLLBACK' | 'SAVEPOINT job' | 'RELEASE job' | 'ROLLBACK TO job'): void {
    this.stmt(this.writer, sql).run();
  }

  private stmt(db: Database.Database, sql: string): Database.Statement {
    // One map per connection, keyed by the SQL itself: most statements are string constants,
    // whose hash V8 computes once (a 'w:' + sql key was a new string to hash on every call).
    const cache = db === this.writer ? this.stmtCache : this.readerStmtCache;
    let s = cache.get(sql);
    if (!s) { s = db.prepare(sql); cache.set(sql, s); }
    return s;
  }

  // ---- reads, parameterised by connection so transactions read their own writes
  private getOn(db: Database.Database, scope: Scope, id: string): StoredObject | null {
    const row = this.stmt(db, 'SELECT seq, id, type, created, version, deleted, data FROM objects WHERE account = ? AND livemode = ? AND id = ?')
      .get(scope.account, scope.livemode ? 1 : 0, id) as Row | undefined;
    return row ? toObject(row) : null;
  }

  private scanOn(db: Database.Database, scope: Scope, q: ScanQuery): StoredObject[] {
    this.indexReady(db, q);
    const args: unknown[] = [scope.account, scope.livemode ? 1 : 0, q.type];
    const { from, where } = scanSql(q, args);
    const c = readsIndex(q) ? 'i' : 'o';
    const older = q.direction === 'older';
    if (q.after) {
      where.push(`(${c}.created, ${c}.seq) ${older ? '<' : '>'} (?, ?)`);
      args.push(q.after.created, q.after.seq);
    }
    const order = older ? 'DESC' : 'ASC';
    // The limit is written into the SQL, not bound: with a bound LIMIT SQLite runs these
    // index scans several times slower (measured: 25 µs against 5 µs for an empty page).
    const limit = Math.max(0, Math.trunc(q.limit));
    const sql = `SELECT o.seq, o.id, o.type, o.created, o.version, o.deleted, o.data FROM ${from} WHERE ${where.join(' AND ')} ORDER BY ${c}.created ${order}, ${c}.seq ${order} LIMIT ${limit}`;
    return (this.stmt(db, sql).all(...args) as Row[]).map(toObject);
  }

  private countOn(db: Database.Database, scope: Scope, q: Omit<ScanQuery, 'limit' | 'direction' | 'after'>): number {
    this.indexReady(db, q);
    const args: unknown[] = [scope.account, scope.livemode ? 1 : 0, q.type];
    const { from, where } = scanSql(q, args);
    return (this.stmt(db, `SELECT count(*) AS n FROM ${from} WHERE ${where.join(' AND ')}`).get(...args) as { n: number }).n;
  }

  private aggregateOn(db: Database.Database, scope: Scope, q: AggregateQuery): FieldAggregate {
    this.indexReady(db, q);
    const path = '$' + q.path.map((k) => `."${k.replace(/["\\]/g, (c) => `\\${c}`)}"`).join('');
    const args: unknown[] = [scope.account, scope.livemode ? 1 : 0, q.type];
    const { from, where } = scanSql({ type: q.type, index: q.index, created: q.created }, args);
    const w = where.join(' AND ');
    const agg = this.stmt(db, `SELECT count(*) AS n, total(CAST(json_extract(o.data, ?) AS REAL)) AS s FROM ${from} WHERE ${w}`)
      .get(path, ...args) as { n: number; s: number };
    const last = agg.n ? this.stmt(db, `SELECT CAST(json_extract(o.data, ?) AS REAL) AS v FROM ${from} WHERE ${w} ORDER BY i.created DESC, i.seq DESC LIMIT 1`)
      .get(path, ...args) as { v: number | null } : undefined;
    return { count: agg.n, sum: agg.s, last: last ? (last.v ?? 0) : null };
  }

  async aggregate(scope: Scope, q: AggregateQuery) { await this.indexedFor(q); return this.aggregateOn(this.reader, scope, q); }

  /** Before a read through object_index inside a transaction (on the writer): what waits of the type is indexed first. */
  private indexReady(db: Database.Database, q: { type: string; index?: unknown; indexPrefix?: unknown }): void {
    if (db === this.writer && readsIndex(q)) this.deferred.ensure(q.type);
  }

  /**
   * Before a read through object_index outside a transaction: objects of the type waiting to be
   * indexed are indexed first, in a write transaction, so the reader connection finds them.
   */
  private async indexedFor(q: { type: string; index?: unknown; indexPrefix?: unknown }): Promise<void> {
    if (!readsIndex(q)) return;
    this.noticeOtherWriters();
    if (this.deferred.mayWaitFor(q.type)) await this.transaction(async () => this.deferred.ensure(q.type));
  }

  /** After a commit: a catch-up of object_index once enough objects wait, or a little later for a few. */
  private scheduleCatchUp(): void {
    if (this.catchUpQueued || this.closed) return;
    const waiting = this.deferred.waiting();
    if (waiting <= 0) return;
    if (waiting >= CATCH_UP_AT) { this.queueCatchUp(); return; }
    if (this.catchUpTimer) return;
    this.catchUpTimer = setTimeout(() => {
      this.catchUpTimer = null;
      if (this.deferred.waiting() > 0) this.queueCatchUp();
    }, CATCH_UP_AFTER_MS);
    this.catchUpTimer.unref();
  }

  private queueCatchUp(): void {
    if (this.closed || this.catchUpQueued) return;
    this.catchUpQueued = true;
    this.transaction(async () => this.deferred.catchUp(CATCH_UP_LIMIT))
      .catch(() => { /* closed, or busy: the next commit schedules another */ })
      .finally(() => { this.catchUpQueued = false; });
  }

  async get(scope: Scope, id: string) {
    this.noticeOtherWriters();
    const key = RowCache.key(scope, id);
    const hit = this.rows.get(key);
    if (hit) return hit;
    const row = this.stmt(this.reader, 'SELECT seq, id, type, created, version, deleted, data FROM objects WHERE account = ? AND livemode = ? AND id = ?')
      .get(scope.account, scope.livemode ? 1 : 0, id) as Row | undefined;
    if (!row) return null;
    const fields = { id: row.id, type: row.type, created: row.created, seq: row.seq, version: row.version, deleted: row.deleted === 1 };
    this.rows.set(key, fields, row.data);
    return storedFromRow(fields, row.data);
  }

  /**
   * Another process sharing the data directory may commit at any time. The writer
   * connection's data_version changes exactly when some other connection committed (our own
   * reader never writes), so one look per event-loop turn tells whether cached rows may be stale.
   */
  private noticeOtherWriters(): void {
    if (this.checkedThisTurn) return;
    this.checkedThisTurn = true;
    setImmediate(() => { this.checkedThisTurn = false; });
    this.checkOtherWriters();
  }

  /** If another connection committed since the last look: cached rows are dropped and the idempotency log is due a catch-up. */
  private checkOtherWriters(): void {
    const version = this.dataVersion.get() as number;
    if (version !== this.lastDataVersion) {
      this.lastDataVersion = version;
      this.rows.clear();
      this.idempotencyStale = true;
      this.deferred.invalidate();
      this.epoch++;
    }
  }

  /**
   * Reads in other processes' idempotency records. Only outside a batch or at its BEGIN: in
   * the middle of one the writer would also read the batch's own uncommitted records.
   */
  private catchUpIdempotency(): void {
    if (!this.idempotencyStale) return;
    this.idempotencyStale = false;
    this.idempotency.catchUp();
  }

  /** Drops cached rows the batch wrote, once it has committed or rolled back. */
  private forgetWritten(): void {
    for (const key of this.written) this.rows.delete(key);
    this.written.length = 0;
    if (this.batchWroteWatched) { this.batchWroteWatched = false; this.epoch++; }
  }

  /** An object of `type` is being written in the running batch. */
  private noteWrite(type: string): void {
    if (!this.watchedTypes.has(type)) return;
    this.batchWroteWatched = true;
    this.epoch++;
  }
  async scan(scope: Scope, q: ScanQuery) { await this.indexedFor(q); return this.scanOn(this.reader, scope, q); }
  async count(scope: Scope, q: Omit<ScanQuery, 'limit' | 'direction' | 'after'>) { await this.indexedFor(q); return this.countOn(this.reader, scope, q); }

  private writeIndex(seq: number, scope: Scope, type: string, created: number, index: IndexEntry[]): void {
    if (index.length === 0) return;
    const ins = this.stmt(this.writer, 'INSERT OR IGNORE INTO object_index (account, livemode, type, field, value, created, seq) VALUES (?, ?, ?, ?, ?, ?, ?)');
    for (const e of index) ins.run(scope.account, scope.livemode ? 1 : 0, type, e.field, e.value, created, seq);
  }

  /** Moves an updated object's index entries from `before` (objects.idx) to `after`: only those that changed. */
  private diffIndex(seq: number, scope: Scope, type: string, created: number, before: string, after: IndexEntry[]): void {
    const old = JSON.parse(before) as Array<[string, string]>;
    const key = (field: string, value: string) => `${field}\u0000${value}`;
    const next = new Set(after.map((e) => key(e.field, e.value)));
    const kept = new Set<string>();
    const lm = scope.livemode ? 1 : 0;
    for (const [field, value] of old) {
      if (next.has(key(field, value))) { kept.add(key(field, value)); continue; }
      this.stmt(this.writer, 'DELETE FROM object_index WHERE account = ? AND livemode = ? AND type = ? AND field = ? AND value = ? AND created = ? AND seq = ?')
        .run(scope.account, lm, type, field, value, created, seq);
    }
    this.writeIndex(seq, scope, type, created, kept.size ? after.filter((e) => !kept.has(key(e.field, e.value))) : after);
  }

  private makeTx(afterCommit: Array<() => void>): Tx {
    const w = this.writer;
    return {
      get: async (scope, id) => this.getOn(w, scope, id),
      getForUpdate: async (scope, id) => this.getOn(w, scope, id), // the writer lock serialises
      scan: async (scope, q) => this.scanOn(w, scope, q),
      count: async (scope, q) => this.countOn(w, scope, q),
      aggregate: async (scope, q) => this.aggregateOn(w, scope, q),
      insert: async (scope, obj: NewObject) => {
        // (Nothing to drop from the row cache: no row of a new id can be cached.)
        this.noteWrite(obj.type);
        const data = obj.json ?? JSON.stringify(obj.data);
        const idx = encodeIndex(obj.index);
        const info = this.stmt(w, 'INSERT INTO objects (account, livemode, id, type, created, version, deleted, data, idx) VALUES (?, ?, ?, ?, ?, 1, 0, ?, ?)')
          .run(scope.account, scope.livemode ? 1 : 0, obj.id, obj.type, obj.created, data, idx.json);
        const seq = Number(info.lastInsertRowid);
        this.deferred.noteInsert(seq, scope, obj.type, obj.created, idx.entries); // its entries go to object_index later
        return { id: obj.id, type: obj.type, created: obj.created, seq, version: 1, deleted: false, data: obj.data };
      },
      update: async (scope, u: ObjectUpdate) => {
        this.written.push(RowCache.key(scope, u.id));
        // The version check and the entries to replace in one read; the writer lock (and
        // BEGIN IMMEDIATE against other processes) keeps the row as read until the UPDATE.
        const row = this.stmt(w, 'SELECT seq, type, created, idx FROM objects WHERE account = ? AND livemode = ? AND id = ? AND version = ?')
          .get(scope.account, scope.livemode ? 1 : 0, u.id, u.version) as { seq: number; type: string; created: number; idx: string } | undefined;
        if (!row) throw new ConflictError(u.id);
        this.noteWrite(row.type);
        const idx = encodeIndex(u.deleted ? [] : u.index);
        this.stmt(w, 'UPDATE objects SET data = ?, version = ?, deleted = ?, idx = ? WHERE seq = ?')
          .run(u.json ?? JSON.stringify(u.data), u.version + 1, u.deleted ? 1 : 0, idx.json, row.seq);
        if (idx.json !== row.idx) {
          if (this.deferred.isIndexed(row.seq)) this.diffIndex(row.seq, scope, row.type, row.created, row.idx, idx.entries);
          else this.deferred.noteUpdate(row.seq, scope, row.type, row.created, idx.entries); // the catch-up writes these
        }
        return { id: u.id, type: row.type, created: row.created, seq: row.seq, version: u.version + 1, deleted: !!u.deleted, data: u.data };
      },
      finishIdempotency: async (scope, key, status, body) => this.finishSync(scope, key, status, body, afterCommit),
      // Inside a batch: other processes' commits were looked for at its BEGIN, and none can
      // happen while it holds the write lock.
      changeEpoch: (type) => { this.watchedTypes.add(type); return this.epoch; },
      afterCommit: (fn) => { afterCommit.push(fn); },
      setTimer: async (scope, t: Timer) => {
        this.stmt(w, 'INSERT INTO timers (account, livemode, kind, key, at, test_clock) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (account, livemode, kind, key) DO UPDATE SET at = excluded.at, test_clock = excluded.test_clock WHERE timers.at != excluded.at OR timers.test_clock != excluded.test_clock')
          .run(scope.account, scope.livemode ? 1 : 0, t.kind, t.key, t.at, t.testClock ?? '');
      },
      deleteTimer: async (scope, kind, key) =>
        this.stmt(w, 'DELETE FROM timers WHERE account = ? AND livemode = ? AND kind = ? AND key = ?').run(scope.account, scope.livemode ? 1 : 0, kind, key).changes > 0,
      deleteClockTimers: async (scope, testClock) => {
        this.stmt(w, 'DELETE FROM timers WHERE account = ? AND livemode = ? AND test_clock = ?').run(scope.account, scope.livemode ? 1 : 0, testClock);
      },
      dueTimers: async (scope, testClock, until, limit) =>
        (this.stmt(w, `SELECT kind, key, at, test_clock FROM timers WHERE account = ? AND livemode = ? AND test_clock = ? AND at <= ? ORDER BY at, kind, key LIMIT ${Math.max(1, Math.floor(limit))}`)
          .all(scope.account, scope.livemode ? 1 : 0, testClock ?? '', until) as TimerRow[]).map(toTimer),
      insertDeliveries: async (scope, rows: NewDelivery[]) => {
        const ins = this.stmt(w, "INSERT INTO webhook_deliveries (id, account, livemode, event_id, endpoint_id, state, next_attempt_ms, created_ms) VALUES (?, ?, ?, ?, ?, 'pending', 0, ?)");
        for (const r of rows) ins.run(r.id, scope.account, scope.livemode ? 1 : 0, r.eventId, r.endpointId, r.createdMs);
      },
      updateDelivery: async (u) => this.updateDeliverySync(u),
    };
  }

  private updateDeliverySync(u: DeliveryUpdate): boolean {
    const first = u.attemptLog[0]?.at ?? null;
    const last = u.attemptLog[u.attemptLog.length - 1]?.at ?? null;
    return this.stmt(this.writer, 'UPDATE webhook_deliveries SET state = ?, attempts = ?, next_attempt_ms = ?, lease_until_ms = 0, first_attempt_ms = ?, last_attempt_ms = ?, attempt_log = ? WHERE id = ? AND lease_until_ms = ?')
      .run(u.state, u.attempts, u.nextAttemptMs, first, last, JSON.stringify(u.attemptLog), u.id, u.leaseUntilMs).changes === 1;
  }

  /** Select-then-lease in one job of a write batch: atomic here, and against other processes (BEGIN IMMEDIATE). */
  async claimDeliveries(nowMs: number, leaseUntilMs: number, limit: number): Promise<Delivery[]> {
    return this.transaction(async () => {
      const rows = this.stmt(this.writer, "SELECT * FROM webhook_deliveries WHERE state = 'pending' AND next_attempt_ms <= ? AND lease_until_ms <= ? ORDER BY next_attempt_ms LIMIT ?")
        .all(nowMs, nowMs, limit) as DeliveryRow[];
      const lease = this.stmt(this.writer, 'UPDATE webhook_deliveries SET lease_until_ms = ? WHERE id = ?');
      for (const r of rows) { lease.run(leaseUntilMs, r.id); r.lease_until_ms = leaseUntilMs; }
      return rows.map(toDelivery);
    });
  }

  async expireDeliveries(beforeMs: number): Promise<number> {
    return this.transaction(async () => this.stmt(this.writer, "DELETE FROM webhook_deliveries WHERE state != 'pending' AND created_ms < ?").run(beforeMs).changes);
  }

  async listDeliveries(scope: Scope, q: { eventId?: string; endpointId?: string; limit: number }): Promise<Delivery[]> {
    const where = ['account = ?', 'livemode = ?'];
    const args: unknown[] = [scope.account, scope.livemode ? 1 : 0];
    if (q.eventId) { where.push('event_id = ?'); args.push(q.eventId); }
    if (q.endpointId) { where.push('endpoint_id = ?'); args.push(q.endpointId); }
    args.push(q.limit);
    return (this.stmt(this.reader, `SELECT * FROM webhook_deliveries WHERE ${where.join(' AND ')} ORDER BY created_ms DESC, id DESC LIMIT ?`).all(...args) as DeliveryRow[]).map(toDelivery);
  }

  async endpointFailingSince(scope: Scope, endpointId: string): Promise<number | null> {
    const lm = scope.livemode ? 1 : 0;
    const row = this.stmt(this.reader, `SELECT min(first_attempt_ms) AS since FROM webhook_deliveries WHERE account = ? AND livemode = ? AND endpoint_id = ? AND state != 'delivered' AND attempts > 0
      AND first_attempt_ms > coalesce((SELECT max(last_attempt_ms) FROM webhook_deliveries WHERE account = ? AND livemode = ? AND endpoint_id = ? AND state = 'delivered'), 0)`)
      .get(scope.account, lm, endpointId, scope.account, lm, endpointId) as { since: number | null };
    return row.since ?? null;
  }

  /**
   * Group commit. Transactions queue up and run one after another on the writer connection,
   * inside one shared outer transaction that commits once for the whole batch, and no caller
   * hears back (so no response is sent) before the batch's COMMIT. A failing transaction
   * leaves no trace and spares the rest: when one throws, the batch is rolled back and run
   * again with each transaction in a SAVEPOINT of its own, the failing one rolled back to it
   * alone (so a function given here may run more than once, as on a write conflict). The queue drains on setImmediate,
   * after the event loop has read every request that is ready, so concurrent requests share
   * one WAL commit instead of paying one each.
   */
  transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new Error('the store is closed'));
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ fn, resolve, reject } as TxJob);
      if (!this.drainScheduled) {
        this.drainScheduled = true;
        this.deferredTurns = 0;
        this.seenQueued = 0;
        setImmediate(this.drainTurn);
      }
    });
  }

  /**
   * The check phase a drain was scheduled for. Under concurrent load the requests a batch's
   * answers set off arrive over a few loop turns, not one: while the queue holds fewer jobs
   * than recent batches had and it grew since the previous look, the drain waits one more
   * turn (a few at most, about a millisecond), so they share one commit. A lone sequential
   * client (recent batches of one) never waits.
   */
  private drainTurn = (): void => {
    const queued = this.queue.length;
    const growing = queued > this.seenQueued && queued < this.expectedBatch;
    if (growing && this.deferredTurns === 0) this.deferStart = performance.now();
    if (growing && this.deferredTurns < MAX_DEFERRED_TURNS && performance.now() - this.deferStart < MAX_DEFER_MS) {
      this.seenQueued = queued;
      this.deferredTurns++;
      setImmediate(this.drainTurn);
      return;
    }
    void this.drain();
  };

  private async drain(): Promise<void> {
    const release = await this.mutex.lock();
    this.drainScheduled = false;
    try {
      await this.drainQueue();
    } finally {
      release();
    }
  }

  /** Runs the queued transactions in batches; the caller holds the writer mutex. */
  private async drainQueue(): Promise<void> {
    if (this.closed) {
      for (const job of this.queue.splice(0)) job.reject(new Error('the store is closed'));
      return;
    }
    while (this.queue.length) {
      if (this.walTailDue) await this.copyWalTail();
      const batch = this.queue.splice(0, MAX_BATCH);
      // Recent batch size, decaying by one a batch: what the next drain waits for at most.
      this.expectedBatch = Math.max(batch.length, this.expectedBatch - 1);
      if (BATCH_STATS) BATCH_STATS[batch.length] = (BATCH_STATS[batch.length] ?? 0) + 1;
      // First without savepoints (SQLite copies every page a job touches for one, a tenth of
      // a payment's CPU); a job that throws rolls the batch back, and it runs again, one
      // savepoint per job. A batch of one needs none: its failure is the whole rollback.
      if (!(await this.runBatch(batch, false))) await this.runBatch(batch, true);
    }
  }

  /**
   * Runs a batch in one transaction and settles its jobs, or, without savepoints, returns false
   * when a job threw: the batch is rolled back, nothing is settled, and it must run again.
   */
  private async runBatch(batch: TxJob[], savepoints: boolean): Promise<boolean> {
    try {
      this.control('BEGIN IMMEDIATE'); // SQLITE_BUSY after busy_timeout: another process holds the file
      this.checkOtherWriters();
      this.catchUpIdempotency();
      this.deferred.begin();
    } catch (err) {
      if (this.writer.inTransaction) this.control('ROLLBACK');
      for (const job of batch) job.reject(err);
      return true;
    }
    const outcomes: Array<() => void> = [];
    for (const job of batch) {
      if (savepoints) { outcomes.push(await this.runJob(job)); continue; }
      const hooks: Array<() => void> = [];
      try {
        const result = await job.fn(this.makeTx(hooks));
        outcomes.push(() => { for (const h of hooks) h(); job.resolve(result); });
      } catch (e) {
        if (this.writer.inTransaction) this.control('ROLLBACK');
        this.forgetWritten();
        this.deferred.invalidate();
        if (batch.length > 1 || e instanceof ConflictError) return false; // conflicts are retried in a savepoint
        job.reject(e);
        return true;
      }
    }
    try {
      this.control('COMMIT');
    } catch (err) {
      if (this.writer.inTransaction) this.control('ROLLBACK');
      this.forgetWritten();
      this.deferred.invalidate();
      for (const job of batch) job.reject(err);
      return true;
    }
    this.forgetWritten();
    for (const settle of outcomes) settle();
    this.scheduleCatchUp();
    return true;
  }

  /**
   * Has the worker copy the frames committed since its checkpoint, between batches (the caller
   * holds the writer mutex), so that the next batch finds the WAL fully copied and SQLite
   * starts it over from the beginning.
   */
  private async copyWalTail(): Promise<void> {
    this.walTailDue = false;
    await this.checkpointer?.finalPass();
  }

  /** Runs one job inside a savepoint; returns how to settle it once the batch commits. */
  private async runJob(job: TxJob): Promise<() => void> {
    for (let attempt = 0; ; attempt++) {
      const hooks: Array<() => void> = [];
      this.control('SAVEPOINT job');
      try {
        const result = await job.fn(this.makeTx(hooks));
        this.control('RELEASE job');
        return () => {
          for (const h of hooks) h();
          job.resolve(result);
        };
      } catch (e) {
        this.control('ROLLBACK TO job');
        this.control('RELEASE job');
        this.deferred.invalidate();
        if (e instanceof ConflictError && attempt < MAX_CONFLICT_RETRIES) continue;
        return () => job.reject(e);
      }
    }
  }

  /**
   * Idempotency on the embedded store. A claim lives in memory: one process runs all its
   * transactions one at a time, so an in-flight duplicate inside it is seen there (Stripe's
   * 409), and a claim costs no write. Results are rows, written in the transaction that
   * produced them. A duplicate sent to another process sharing the file runs only after the
   * first process's commit (SQLite has one writer), finds the row when recording its own
   * result, is rolled back and answers with the recorded response (IdempotencyTaken).
   */
  async claimIdempotency(scope: Scope, key: string, requestHash: string, nowMs: number, leaseMs: number): Promise<ClaimResult> {
    const flightKey = inFlightKey(scope, key);
    const flight = this.inFlight.get(flightKey);
    if (flight) {
      return { kind: 'existing', record: { requestHash: flight.requestHash, state: 'pending', status: null, body: null, createdMs: flight.createdMs, lockedUntilMs: flight.createdMs + leaseMs } };
    }
    // A fresh key is a miss in the in-memory map: no SQL at all. A hit is read on the writer
    // connection, which between statements of a running batch also sees that batch's
    // uncommitted results; their keys are still in flight (above) until the batch commits.
    this.noticeOtherWriters();
    if (!this.writer.inTransaction) this.catchUpIdempotency();
    const hash = keyHash(scope.account, scope.livemode, key);
    const done = this.idempotency.find(scope, key, nowMs, hash);
    if (done) return { kind: 'existing', record: done };
    this.inFlight.set(flightKey, { requestHash, createdMs: nowMs, hash, generation: this.idempotency.generation });
    return { kind: 'claimed' };
  }

  private finishSync(scope: Scope, key: string, status: number, body: string, hooks: Array<() => void>): void {
    const flightKey = inFlightKey(scope, key);
    const claim = this.inFlight.get(flightKey);
    if (!claim) return; // released already: nothing to record
    // Under the write lock, with other processes' records read in at the batch's BEGIN: a
    // record found now is another process's answer to the same key. None can be there if
    // no such record was read in since the claim looked.
    if (this.idempotency.generation !== claim.generation) {
      const taken = this.idempotency.find(scope, key, claim.createdMs, claim.hash);
      if (taken) throw new IdempotencyTaken(taken);
    }
    const remember = this.idempotency.append(scope, key, claim.requestHash, status, body, claim.createdMs, claim.hash);
    // The claim stays visible until the result is committed, so no duplicate slips in between.
    hooks.push(() => { remember(); this.inFlight.delete(flightKey); });
  }

  async finishIdempotency(scope: Scope, key: string, status: number, body: string): Promise<void> {
    await this.transaction(async (tx) => tx.finishIdempotency(scope, key, status, body));
  }

  async releaseIdempotency(scope: Scope, key: string): Promise<void> {
    this.inFlight.delete(inFlightKey(scope, key));
  }

  async expireIdempotency(beforeMs: number): Promise<number> {
    return this.transaction(async () => this.idempotency.expire(beforeMs));
  }

  async dueTimerScopes(until: number, limit: number): Promise<Scope[]> {
    const rows = this.stmt(this.reader, `SELECT DISTINCT account, livemode FROM timers WHERE test_clock = '' AND at <= ? LIMIT ${Math.max(1, Math.floor(limit))}`)
      .all(until) as Array<{ account: string; livemode: number }>;
    return rows.map((r) => ({ account: r.account, livemode: r.livemode === 1 }));
  }

  async reset(account?: string): Promise<void> {
    const release = await this.mutex.lock();
    try {
      const run = (sql: string) => (account ? this.writer.prepare(sql + ' WHERE account = ?').run(account) : this.writer.prepare(sql).run());
      this.writer.transaction(() => {
        run('DELETE FROM object_index');
        run('DELETE FROM objects');
        run('DELETE FROM idempotency_log');
        run('DELETE FROM webhook_deliveries');
        run('DELETE FROM timers');
      })();
      this.rows.clear();
      this.epoch++;
      this.idempotency.reload();
      this.deferred.invalidate();
    } finally { release(); }
  }

  async close(): Promise<void> {
    const release = await this.mutex.lock();
    try {
      // Transactions queued before close, whose drain had not started, still commit.
      await this.drainQueue();
      this.closed = true;
      if (this.catchUpTimer) { clearTimeout(this.catchUpTimer); this.catchUpTimer = null; }
      await this.checkpointer?.close();
      this.reader.close();
      this.writer.close();
    } finally { release(); }
  }
}

export type { Cursor };
