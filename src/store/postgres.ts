// PostgreSQL store: same tables and semantics as the SQLite store, shared by any number of
// server processes. Writers lock the rows they change (SELECT … FOR UPDATE) and the version
// column is compared on every update, so two processes racing on one object serialise and
// neither loses the other's write. Idempotency claims are rows with a lease; INSERT … ON
// CONFLICT makes the claim atomic across processes.
import postgres from 'postgres';
import {
  ConflictError, IDEMPOTENCY_TTL_MS, MAX_CONFLICT_RETRIES, storedFromRow,
  type Delivery, type DeliveryUpdate, type NewDelivery,
  type AggregateQuery, type ClaimResult, type FieldAggregate, type IndexEntry, type NewObject, type ObjectUpdate, type ScanQuery, type Scope, type Store,
  type StoredObject, type Timer, type Tx,
} from './store.js';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS objects (
  seq BIGSERIAL PRIMARY KEY,
  account TEXT NOT NULL,
  livemode BOOLEAN NOT NULL,
  id TEXT NOT NULL,
  type TEXT NOT NULL,
  created BIGINT NOT NULL,
  version INTEGER NOT NULL,
  deleted BOOLEAN NOT NULL DEFAULT false,
  data TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS objects_by_id ON objects(account, livemode, id);
CREATE INDEX IF NOT EXISTS objects_by_type ON objects(account, livemode, type, deleted, created, seq);
CREATE TABLE IF NOT EXISTS object_index (
  seq BIGINT NOT NULL,
  account TEXT NOT NULL,
  livemode BOOLEAN NOT NULL,
  type TEXT NOT NULL,
  field TEXT NOT NULL,
  value TEXT NOT NULL,
  created BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS object_index_lookup ON object_index(account, livemode, type, field, value COLLATE "C", created, seq);
CREATE INDEX IF NOT EXISTS object_index_by_seq ON object_index(seq);
CREATE TABLE IF NOT EXISTS idempotency (
  account TEXT NOT NULL,
  livemode BOOLEAN NOT NULL,
  key TEXT NOT NULL,
  request_hash TEXT NOT NULL,
  state TEXT NOT NULL,
  status INTEGER,
  body TEXT,
  created_ms BIGINT NOT NULL,
  locked_until_ms BIGINT NOT NULL,
  PRIMARY KEY (account, livemode, key)
);
CREATE INDEX IF NOT EXISTS idempotency_by_age ON idempotency(created_ms);
CREATE TABLE IF NOT EXISTS webhook_deliveries (
  id TEXT PRIMARY KEY,
  account TEXT NOT NULL,
  livemode BOOLEAN NOT NULL,
  event_id TEXT NOT NULL,
  endpoint_id TEXT NOT NULL,
  state TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_ms BIGINT NOT NULL,
  lease_until_ms BIGINT NOT NULL DEFAULT 0,
  created_ms BIGINT NOT NULL,
  first_attempt_ms BIGINT,
  last_attempt_ms BIGINT,
  attempt_log TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX IF NOT EXISTS webhook_deliveries_due ON webhook_deliveries(state, next_attempt_ms);
CREATE INDEX IF NOT EXISTS webhook_deliveries_by_event ON webhook_deliveries(account, livemode, event_id);
CREATE INDEX IF NOT EXISTS webhook_deliveries_by_endpoint ON webhook_deliveries(account, livemode, endpoint_id, state);
CREATE TABLE IF NOT EXISTS timers (
  account TEXT NOT NULL,
  livemode BOOLEAN NOT NULL,
  kind TEXT NOT NULL,
  key TEXT NOT NULL,
  at BIGINT NOT NULL,
  test_clock TEXT NOT NULL, -- '' for real time
  PRIMARY KEY (account, livemode, kind, key)
);
CREATE INDEX IF NOT EXISTS timers_due ON timers(account, livemode, test_clock, at);
CREATE INDEX IF NOT EXISTS timers_real_time ON timers(test_clock, at);
`;

/** Every table and index SCHEMA creates, to tell a complete schema from a missing or partial one. */
const SCHEMA_RELATIONS = [...SCHEMA.matchAll(/(?:TABLE|INDEX) IF NOT EXISTS (\w+)/g)].map((m) => m[1]!);

type Sql = postgres.Sql<{ bigint: number }> | postgres.TransactionSql<{ bigint: number }>;

interface Row {
  seq: number; id: string; type: string; created: number; version: number; deleted: boolean; data: string;
}
interface DeliveryRow {
  id: string; account: string; livemode: boolean; event_id: string; endpoint_id: string; state: Delivery['state'];
  attempts: number; next_attempt_ms: number; lease_until_ms: number; created_ms: number; attempt_log: string;
}
const toDelivery = (r: DeliveryRow): Delivery => ({
  id: r.id, account: r.account, livemode: r.livemode, eventId: r.event_id, endpointId: r.endpoint_id, state: r.state,
  attempts: r.attempts, nextAttemptMs: Number(r.next_attempt_ms), leaseUntilMs: Number(r.lease_until_ms), createdMs: Number(r.created_ms),
  attemptLog: JSON.parse(r.attempt_log),
});

async function updateDeliveryOn(sql: Sql, u: DeliveryUpdate): Promise<boolean> {
  const first = u.attemptLog[0]?.at ?? null;
  const last = u.attemptLog[u.attemptLog.length - 1]?.at ?? null;
  const r = await sql`UPDATE webhook_deliveries SET state = ${u.state}, attempts = ${u.attempts}, next_attempt_ms = ${u.nextAttemptMs},
    lease_until_ms = 0, first_attempt_ms = ${first}, last_attempt_ms = ${last}, attempt_log = ${JSON.stringify(u.attemptLog)}
    WHERE id = ${u.id} AND lease_until_ms = ${u.leaseUntilMs}`;
  return r.count === 1;
}

const toObject = (r: Row): StoredObject =>
  storedFromRow({ id: r.id, type: r.type, created: Number(r.created), seq: Number(r.seq), version: r.version, deleted: r.deleted }, r.data);

function scanParts(scope: Scope, q: Partial<ScanQuery>): { text: string; args: unknown[]; c: string } {
  const args: unknown[] = [scope.account, scope.livemode, q.type];
  const where: string[] = [];
  let from: string;
  const c = q.index || q.indexPrefix ? 'i' : 'o';
  const p = () => `$${args.length}`;
  if (c === 'i') {
    from = 'object_index i JOIN objects o ON o.seq = i.seq';
    where.push('i.account = $1', 'i.livemode = $2', 'i.type = $3');
    if (q.index) {
      args.push(q.index.field); where.push(`i.field = ${p()}`);
      args.push(q.index.value); where.push(`i.value = ${p()}`);
    } else {
      args.push(q.indexPrefix!.field); where.push(`i.field = ${p()}`);
      args.push(q.indexPrefix!.prefix); where.push(`i.value COLLATE "C" >= ${p()}`);
      args.push(q.indexPrefix!.prefix + '\uffff'); where.push(`i.value COLLATE "C" < ${p()}`);
    }
  } else {
    from = 'objects o';
    where.push('o.account = $1', 'o.livemode = $2', 'o.type = $3');
  }
  if (!q.includeDeleted) where.push('o.deleted = false');
  const cr = q.created;
  if (cr?.gt !== undefined) { args.push(cr.gt); where.push(`${c}.created > ${p()}`); }
  if (cr?.gte !== undefined) { args.push(cr.gte); where.push(`${c}.created >= ${p()}`); }
  if (cr?.lt !== undefined) { args.push(cr.lt); where.push(`${c}.created < ${p()}`); }
  if (cr?.lte !== undefined) { args.push(cr.lte); where.push(`${c}.created <= ${p()}`); }
  if (q.after) {
    args.push(q.after.created);
    const a = p();
    args.push(q.after.seq);
    where.push(`(${c}.created, ${c}.seq) ${q.direction === 'older' ? '<' : '>'} (${a}, ${p()})`);
  }
  return { text: `FROM ${from} WHERE ${where.join(' AND ')}`, args, c };
}

const COLS = 'o.seq, o.id, o.type, o.created, o.version, o.deleted, o.data';

async function getOn(sql: Sql, scope: Scope, id: string, forUpdate = false): Promise<StoredObject | null> {
  const rows = await sql.unsafe<Row[]>(
    `SELECT seq, id, type, created, version, deleted, data FROM objects WHERE account = $1 AND livemode = $2 AND id = $3${forUpdate ? ' FOR UPDATE' : ''}`,
    [scope.account, scope.livemode, id] as any[], { prepare: true });
  return rows[0] ? toObject(rows[0]) : null;
}

async function scanOn(sql: Sql, scope: Scope, q: ScanQuery): Promise<StoredObject[]> {
  const { text, args, c } = scanParts(scope, q);
  const order = q.direction === 'older' ? 'DESC' : 'ASC';
  args.push(q.limit);
  const rows = await sql.unsafe<Row[]>(`SELECT ${COLS} ${text} ORDER BY ${c}.created ${order}, ${c}.seq ${order} LIMIT $${args.length}`, args as any[], { prepare: true });
  return rows.map(toObject);
}

async function countOn(sql: Sql, scope: Scope, q: Omit<ScanQuery, 'limit' | 'direction' | 'after'>): Promise<number> {
  const { text, args } = scanParts(scope, q);
  const rows = await sql.unsafe<{ n: number }[]>(`SELECT count(*)::int AS n ${text}`, args as any[], { prepare: true });
  return Number(rows[0]!.n);
}

async function aggregateOn(sql: Sql, scope: Scope, q: AggregateQuery): Promise<FieldAggregate> {
  const { text, args } = scanParts(scope, { type: q.type, index: q.index, created: q.created });
  args.push(q.path);
  const v = `(o.data::json #>> $${args.length}::text[])`;
  // Only decimal strings and numbers are summed; anything else counts 0 (a count meter's stray value).
  const num = `CASE WHEN ${v} ~ '^-?[0-9]+(\\.[0-9]+)?$' THEN ${v}::numeric END`;
  const [agg] = await sql.unsafe<{ n: number; s: string | null }[]>(`SELECT count(*)::int AS n, sum(${num})::text AS s ${text}`, args as any[], { prepare: true });
  let last: number | null = null;
  if (agg!.n) {
    const [row] = await sql.unsafe<{ v: string | null }[]>(`SELECT (${num})::text AS v ${text} ORDER BY i.created DESC, i.seq DESC LIMIT 1`, args as any[], { prepare: true });
    last = row?.v == null ? 0 : Number(row.v);
  }
  return { count: Number(agg!.n), sum: agg!.s == null ? 0 : Number(agg!.s), last };
}

const entryKey = (field: string, value: string) => `${field}\u0000${value}`;

/** The entries without repeats (an index hook may name one twice). */
function distinctEntries(index: IndexEntry[]): IndexEntry[] {
  if (index.length < 2) return index;
  const seen = new Set<string>();
  return index.filter((e) => { const k = entryKey(e.field, e.value); return seen.has(k) ? false : (seen.add(k), true); });
}

/**
 * Moves an updated object's index entries to `next`, touching only those that changed: most
 * updates change no indexed field, and then the only statement is the read of the current ones.
 */
async function diffIndex(sql: Sql, seq: number, scope: Scope, type: string, created: number, next: IndexEntry[]): Promise<void> {
  const current = await sql<{ field: string; value: string }[]>`SELECT field, value FROM object_index WHERE seq = ${seq}`;
  const wanted = new Set(next.map((e) => entryKey(e.field, e.value)));
  const have = new Set<string>();
  for (const e of current) {
    const k = entryKey(e.field, e.value);
    if (wanted.has(k) && !have.has(k)) { have.add(k); continue; }
    await sql`DELETE FROM object_index WHERE seq = ${seq} AND field = ${e.field} AND value = ${e.value}`;
    have.delete(k); // a repeated stale row: all its copies are gone now, so re-add it if wanted
  }
  await writeIndex(sql, seq, scope, type, created, next.filter((e) => !have.has(entryKey(e.field, e.value))));
}

async function writeIndex(sql: Sql, seq: number, scope: Scope, type: string, created: number, all: IndexEntry[]): Promise<void> {
  const index = distinctEntries(all);
  if (!index.length) return;
  const rows = index.map((e) => ({ seq, account: scope.account, livemode: scope.livemode, type, field: e.field, value: e.value, created }));
  await sql`INSERT INTO object_index ${sql(rows, 'seq', 'account', 'livemode', 'type', 'field', 'value', 'created')}`;
}

export class PostgresStore implements Store {
  readonly kind = 'postgres' as const;
  private sql: postgres.Sql<{ bigint: number }>;

  private constructor(sql: postgres.Sql<{ bigint: number }>) {
    this.sql = sql;
  }

  static async open(url: string, options: { max?: number } = {}): Promise<PostgresStore> {
    const sql = postgres(url, {
      max: options.max ?? 10,
      onnotice: () => {},
      types: { bigint: postgres.BigInt } as any,
    }) as unknown as postgres.Sql<{ bigint: number }>;
    // A complete schema is left alone: CREATE INDEX IF NOT EXISTS still takes a SHARE lock on
    // its table, so running it while other servers write deadlocked against their transactions.
    // Otherwise several processes may start at once: schema creation is serialised with an
    // advisory lock.
    const present = await sql<Array<{ relname: string }>>`
      SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = current_schema() AND c.relname = ANY(${SCHEMA_RELATIONS})`;
    if (present.length < SCHEMA_RELATIONS.length) {
      await sql.begin(async (tx) => {
        await tx`SELECT pg_advisory_xact_lock(7270001)`;
        await tx.unsafe(SCHEMA);
      });
    }
    return new PostgresStore(sql);
  }

  get(scope: Scope, id: string) { return getOn(this.sql, scope, id); }
  scan(scope: Scope, q: ScanQuery) { return scanOn(this.sql, scope, q); }
  count(scope: Scope, q: Omit<ScanQuery, 'limit' | 'direction' | 'after'>) { return countOn(this.sql, scope, q); }
  aggregate(scope: Scope, q: AggregateQuery) { return aggregateOn(this.sql, scope, q); }

  async transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const hooks: Array<() => void> = [];
      try {
        const result = await this.sql.begin(async (t) => {
          const tx: Tx = {
            get: (scope, id) => getOn(t, scope, id),
            getForUpdate: (scope, id) => getOn(t, scope, id, true),
            scan: (scope, q) => scanOn(t, scope, q),
            count: (scope, q) => countOn(t, scope, q),
            aggregate: (scope, q) => aggregateOn(t, scope, q),
            insert: async (scope, obj: NewObject) => {
              const [row] = await t<{ seq: number }[]>`INSERT INTO objects (account, livemode, id, type, created, version, deleted, data)
                VALUES (${scope.account}, ${scope.livemode}, ${obj.id}, ${obj.type}, ${obj.created}, 1, false, ${obj.json ?? JSON.stringify(obj.data)}) RETURNING seq`;
              const seq = Number(row!.seq);
              await writeIndex(t, seq, scope, obj.type, obj.created, obj.index);
              return { id: obj.id, type: obj.type, created: obj.created, seq, version: 1, deleted: false, data: obj.data };
            },
            update: async (scope, u: ObjectUpdate) => {
              const rows = await t<Omit<Row, 'data'>[]>`UPDATE objects SET data = ${u.json ?? JSON.stringify(u.data)}, version = version + 1, deleted = ${u.deleted ?? false}
                WHERE account = ${scope.account} AND livemode = ${scope.livemode} AND id = ${u.id} AND version = ${u.version}
                RETURNING seq, id, type, created, version, deleted`;
              const row = rows[0];
              if (!row) throw new ConflictError(u.id);
              await diffIndex(t, Number(row.seq), scope, row.type, Number(row.created), u.deleted ? [] : u.index);
              return { id: row.id, type: row.type, created: Number(row.created), seq: Number(row.seq), version: row.version, deleted: row.deleted, data: u.data };
            },
            finishIdempotency: async (scope, key, status, body) => { await this.finishOn(t, scope, key, status, body); },
            afterCommit: (f) => { hooks.push(f); },
            insertDeliveries: async (scope, rows: NewDelivery[]) => {
              if (!rows.length) return;
              const values = rows.map((r) => ({
                id: r.id, account: scope.account, livemode: scope.livemode, event_id: r.eventId, endpoint_id: r.endpointId,
                state: 'pending', next_attempt_ms: 0, created_ms: r.createdMs,
              }));
              await t`INSERT INTO webhook_deliveries ${t(values, 'id', 'account', 'livemode', 'event_id', 'endpoint_id', 'state', 'next_attempt_ms', 'created_ms')}`;
            },
            updateDelivery: (u) => updateDeliveryOn(t, u),
            setTimer: async (scope, tm: Timer) => {
              await t`INSERT INTO timers (account, livemode, kind, key, at, test_clock)
                VALUES (${scope.account}, ${scope.livemode}, ${tm.kind}, ${tm.key}, ${tm.at}, ${tm.testClock ?? ''})
                ON CONFLICT (account, livemode, kind, key) DO UPDATE SET at = excluded.at, test_clock = excluded.test_clock
                WHERE timers.at IS DISTINCT FROM excluded.at OR timers.test_clock IS DISTINCT FROM excluded.test_clock`;
            },
            deleteTimer: async (scope, kind, key) =>
              (await t`DELETE FROM timers WHERE account = ${scope.account} AND livemode = ${scope.livemode} AND kind = ${kind} AND key = ${key}`).count > 0,
            deleteClockTimers: async (scope, testClock) => {
              await t`DELETE FROM timers WHERE account = ${scope.account} AND livemode = ${scope.livemode} AND test_clock = ${testClock}`;
            },
            dueTimers: async (scope, testClock, until, limit) => {
              const rows = await t<Array<{ kind: string; key: string; at: number; test_clock: string }>>`SELECT kind, key, at, test_clock FROM timers
                WHERE account = ${scope.account} AND livemode = ${scope.livemode} AND test_clock = ${testClock ?? ''} AND at <= ${until}
                ORDER BY at, kind COLLATE "C", key COLLATE "C" LIMIT ${Math.max(1, Math.floor(limit))} FOR UPDATE SKIP LOCKED`;
              return rows.map((r) => ({ kind: r.kind, key: r.key, at: Number(r.at), testClock: r.test_clock === '' ? null : r.test_clock }));
            },
          };
          return fn(tx);
        });
        for (const h of hooks) h();
        return result as T;
      } catch (e) {
        const code = (e as { code?: string }).code;
        // 23505: a concurrent transaction inserted the same id (a meter event identifier, a
        // promotion code's lock row); the retry reads the committed row and answers from it.
        const retriable = e instanceof ConflictError || code === '40001' || code === '40P01' || code === '23505';
        if (retriable && attempt < MAX_CONFLICT_RETRIES) continue;
        throw e;
      }
    }
  }

  private async finishOn(sql: Sql, scope: Scope, key: string, status: number, body: string): Promise<void> {
    await sql`UPDATE idempotency SET state = 'done', status = ${status}, body = ${body}
      WHERE account = ${scope.account} AND livemode = ${scope.livemode} AND key = ${key}`;
  }

  async claimIdempotency(scope: Scope, key: string, requestHash: string, nowMs: number, leaseMs: number): Promise<ClaimResult> {
    const dayAgo = nowMs - IDEMPOTENCY_TTL_MS;
    // Insert a fresh claim, or take over an expired record or a pending claim whose lease ran
    // out (its process died); otherwise the existing row wins and is returned.
    const claimed = await this.sql`INSERT INTO idempotency (account, livemode, key, request_hash, state, created_ms, locked_until_ms)
      VALUES (${scope.account}, ${scope.livemode}, ${key}, ${requestHash}, 'pending', ${nowMs}, ${nowMs + leaseMs})
      ON CONFLICT (account, livemode, key) DO UPDATE SET request_hash = excluded.request_hash, state = 'pending', status = NULL, body = NULL,
        created_ms = excluded.created_ms, locked_until_ms = excluded.locked_until_ms
      WHERE idempotency.created_ms < ${dayAgo} OR (idempotency.state = 'pending' AND idempotency.locked_until_ms < ${nowMs})
      RETURNING key`;
    if (claimed.length) return { kind: 'claimed' };
    const rows = await this.sql<{ request_hash: string; state: 'pending' | 'done'; status: number | null; body: string | null; created_ms: number; locked_until_ms: number }[]>`
      SELECT request_hash, state, status, body, created_ms, locked_until_ms FROM idempotency
      WHERE account = ${scope.account} AND livemode = ${scope.livemode} AND key = ${key}`;
    const r = rows[0];
    if (!r) return this.claimIdempotency(scope, key, requestHash, nowMs, leaseMs); // expired between the two statements
    return { kind: 'existing', record: { requestHash: r.request_hash, state: r.state, status: r.status, body: r.body, createdMs: Number(r.created_ms), lockedUntilMs: Number(r.locked_until_ms) } };
  }

  finishIdempotency(scope: Scope, key: string, status: number, body: string): Promise<void> {
    return this.finishOn(this.sql, scope, key, status, body);
  }

  async releaseIdempotency(scope: Scope, key: string): Promise<void> {
    await this.sql`DELETE FROM idempotency WHERE account = ${scope.account} AND livemode = ${scope.livemode} AND key = ${key} AND state = 'pending'`;
  }

  async expireIdempotency(beforeMs: number): Promise<number> {
    const r = await this.sql`DELETE FROM idempotency WHERE created_ms < ${beforeMs}`;
    return r.count;
  }

  async claimDeliveries(nowMs: number, leaseUntilMs: number, limit: number): Promise<Delivery[]> {
    // SKIP LOCKED: concurrent claimers in other processes pass over each other's rows instead
    // of waiting; the lease keeps a claimed row away from them until it is released or expires.
    const rows = await this.sql<DeliveryRow[]>`UPDATE webhook_deliveries SET lease_until_ms = ${leaseUntilMs}
      WHERE id IN (SELECT id FROM webhook_deliveries WHERE state = 'pending' AND next_attempt_ms <= ${nowMs} AND lease_until_ms <= ${nowMs}
        ORDER BY next_attempt_ms LIMIT ${limit} FOR UPDATE SKIP LOCKED)
      RETURNING *`;
    return rows.map(toDelivery).sort((a, b) => a.nextAttemptMs - b.nextAttemptMs);
  }

  async expireDeliveries(beforeMs: number): Promise<number> {
    const r = await this.sql`DELETE FROM webhook_deliveries WHERE state != 'pending' AND created_ms < ${beforeMs}`;
    return r.count;
  }

  async listDeliveries(scope: Scope, q: { eventId?: string; endpointId?: string; limit: number }): Promise<Delivery[]> {
    const rows = await this.sql<DeliveryRow[]>`SELECT * FROM webhook_deliveries WHERE account = ${scope.account} AND livemode = ${scope.livemode}
      ${q.eventId ? this.sql`AND event_id = ${q.eventId}` : this.sql``} ${q.endpointId ? this.sql`AND endpoint_id = ${q.endpointId}` : this.sql``}
      ORDER BY created_ms DESC, id DESC LIMIT ${q.limit}`;
    return rows.map(toDelivery);
  }

  async endpointFailingSince(scope: Scope, endpointId: string): Promise<number | null> {
    const [row] = await this.sql<{ since: number | null }[]>`SELECT min(first_attempt_ms) AS since FROM webhook_deliveries
      WHERE account = ${scope.account} AND livemode = ${scope.livemode} AND endpoint_id = ${endpointId} AND state != 'delivered' AND attempts > 0
      AND first_attempt_ms > coalesce((SELECT max(last_attempt_ms) FROM webhook_deliveries WHERE account = ${scope.account}
        AND livemode = ${scope.livemode} AND endpoint_id = ${endpointId} AND state = 'delivered'), 0)`;
    return row?.since == null ? null : Number(row.since);
  }


  async dueTimerScopes(until: number, limit: number): Promise<Scope[]> {
    const rows = await this.sql<Array<{ account: string; livemode: boolean }>>`SELECT DISTINCT account, livemode FROM timers
      WHERE test_clock = '' AND at <= ${until} LIMIT ${Math.max(1, Math.floor(limit))}`;
    return rows.map((r) => ({ account: r.account, livemode: r.livemode }));
  }

  async reset(account?: string): Promise<void> {
    await this.sql.begin(async (t) => {
      for (const table of ['object_index', 'objects', 'idempotency', 'webhook_deliveries', 'timers']) {
        if (account) await t.unsafe(`DELETE FROM ${table} WHERE account = $1`, [account]);
        else await t.unsafe(`DELETE FROM ${table}`);
      }
    });
  }

  async close(): Promise<void> {
    await this.sql.end({ timeout: 5 });
  }
}
