// Idempotency records on the embedded store, found without a B-tree on the key.
//
// Idempotency keys are random (stripe-node sends a UUID per request), so a SQLite index on
// them puts every new record on a random leaf page: at 20 requests per group commit that was
// 20 scattered pages written to the WAL per commit, and a page read for every new key's
// lookup (measured: a third of a customer create's time in SQLite). Records are therefore
// appended in id order (idempotency_log, with only a by-age index, which grows at one end),
// and each process keeps a map from a 30-bit hash of (account, mode, key) to record ids
// (small integers, which V8 keeps unboxed: a map of a million keys costs no number objects
// and hashes cheaply). A map hit is confirmed by reading the row by id, so hash collisions
// (one fresh key in a thousand at a million records), rows deleted by another process and
// ids from a rolled-back batch are harmless.
//
// Other processes on the same file append too: their rows are read in (the log's tail past
// the last id seen) whenever PRAGMA data_version says another connection committed, and
// always under the write lock before a record is added, so a key answered by another
// process is found there (IdempotencyTaken), as the unique index used to find it.
import type Database from 'better-sqlite3';
import { IDEMPOTENCY_TTL_MS, type IdempotencyRecord, type Scope } from './store.js';

export const IDEMPOTENCY_LOG_TABLE = `CREATE TABLE IF NOT EXISTS idempotency_log (
  id INTEGER PRIMARY KEY AUTOINCREMENT, -- never reused, so tailing by id misses no row
  account TEXT NOT NULL,
  livemode INTEGER NOT NULL,
  key TEXT NOT NULL,
  request_hash TEXT NOT NULL,
  status INTEGER NOT NULL,
  body TEXT NOT NULL,
  created_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS idempotency_log_by_age ON idempotency_log(created_ms);`;

/** From schema version 1 (a rowid table with a unique key): finished records move to the log, oldest first. */
export const MIGRATE_IDEMPOTENCY_FROM_1 = `
INSERT INTO idempotency_log (account, livemode, key, request_hash, status, body, created_ms)
  SELECT account, livemode, key, request_hash, status, body, created_ms FROM idempotency
  WHERE state = 'done' AND status IS NOT NULL AND body IS NOT NULL ORDER BY created_ms;
DROP TABLE idempotency;
`;

interface LogRow { id: number; account: string; livemode: number; key: string; request_hash: string; status: number; body: string; created_ms: number }

/** FNV-1a, 32 bits. */
function fnv(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** 30 bits of (account, mode, key): a small integer (Smi) on every V8 build. */
export function keyHash(account: string, livemode: boolean | number, key: string): number {
  return fnv(`${livemode ? 'l' : 't'}${account}\u0000${key}`) >>> 2;
}

export class IdempotencyLog {
  /** Hash → record id, or ids (newest last) when several records share a hash. */
  private ids = new Map<number, number | number[]>();
  private lastSeen = 0;
  /**
   * Moves whenever records other processes appended are read in (or the map is rebuilt): a
   * key not found at some generation is still not there while the generation is unchanged.
   */
  generation = 0;

  constructor(private readonly stmt: (sql: string) => Database.Statement) {}

  /** Reads in records appended since the last look (at open: all of them). */
  catchUp(): void {
    const rows = this.stmt('SELECT id, account, livemode, key FROM idempotency_log WHERE id > ? ORDER BY id')
      .all(this.lastSeen) as Array<Pick<LogRow, 'id' | 'account' | 'livemode' | 'key'>>;
    for (const r of rows) this.remember(keyHash(r.account, r.livemode, r.key), r.id);
    if (rows.length) this.generation++;
  }

  /** The newest finished, unexpired record for the key, if any. */
  find(scope: Scope, key: string, nowMs: number, h = keyHash(scope.account, scope.livemode, key)): IdempotencyRecord | null {
    const entry = this.ids.get(h);
    if (entry === undefined) return null;
    const candidates = typeof entry === 'number' ? [entry] : entry;
    for (let i = candidates.length - 1; i >= 0; i--) {
      const row = this.stmt('SELECT id, account, livemode, key, request_hash, status, body, created_ms FROM idempotency_log WHERE id = ?')
        .get(candidates[i]) as LogRow | undefined;
      if (!row) { this.forget(h, candidates[i]!); continue; } // deleted (expiry, reset) or rolled back
      if (row.account !== scope.account || row.livemode !== (scope.livemode ? 1 : 0) || row.key !== key) continue; // a collision
      if (row.created_ms < nowMs - IDEMPOTENCY_TTL_MS) return null;
      return { requestHash: row.request_hash, state: 'done', status: row.status, body: row.body, createdMs: row.created_ms, lockedUntilMs: 0 };
    }
    return null;
  }

  /** Appends a record (in the caller's transaction); returns how to index it once committed. */
  append(scope: Scope, key: string, requestHash: string, status: number, body: string, createdMs: number, h = keyHash(scope.account, scope.livemode, key)): () => void {
    const info = this.stmt('INSERT INTO idempotency_log (account, livemode, key, request_hash, status, body, created_ms) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(scope.account, scope.livemode ? 1 : 0, key, requestHash, status, body, createdMs);
    const id = Number(info.lastInsertRowid);
    return () => this.remember(h, id);
  }

  /** Deletes records created before the cutoff (in the caller's transaction) and forgets them. */
  expire(beforeMs: number): number {
    const gone = this.stmt('DELETE FROM idempotency_log WHERE created_ms < ? RETURNING id, account, livemode, key')
      .all(beforeMs) as Array<Pick<LogRow, 'id' | 'account' | 'livemode' | 'key'>>;
    for (const r of gone) this.forget(keyHash(r.account, r.livemode, r.key), r.id);
    return gone.length;
  }

  /** After rows were deleted wholesale (reset): rebuilt from the table. */
  reload(): void {
    this.ids.clear();
    this.lastSeen = 0;
    this.generation++;
    this.catchUp();
  }

  private remember(h: number, id: number): void {
    if (id > this.lastSeen) this.lastSeen = id;
    const entry = this.ids.get(h);
    if (entry === undefined) this.ids.set(h, id);
    else if (typeof entry === 'number') { if (entry !== id) this.ids.set(h, entry < id ? [entry, id] : [id, entry]); }
    else if (!entry.includes(id)) { entry.push(id); entry.sort((a, b) => a - b); }
  }

  private forget(h: number, id: number): void {
    const entry = this.ids.get(h);
    if (entry === undefined) return;
    if (typeof entry === 'number') { if (entry === id) this.ids.delete(h); return; }
    const rest = entry.filter((x) => x !== id);
    if (rest.length === 0) this.ids.delete(h);
    else this.ids.set(h, rest.length === 1 ? rest[0]! : rest);
  }
}
