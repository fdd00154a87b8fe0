// The one Store interface. Two backends implement it (SQLite embedded, PostgreSQL) and pass
// the same test suite. Every Stripe object lives in one `objects` table keyed by
// (account, livemode, id) with its canonical JSON, a version column for compare-and-swap and
// declared secondary index entries (object_index) for the fields lists and searches filter
// on, so a new resource family needs no new table.

export interface Scope {
  account: string;
  livemode: boolean;
}

export interface StoredObject {
  id: string;
  type: string;
  created: number;
  /** Insertion order; the tie-break among objects created in the same second. */
  seq: number;
  version: number;
  deleted: boolean;
  data: Record<string, any>;
}

/**
 * A stored object read from the store, its JSON parsed on first access to `data`: a retrieve
 * or list whose rendered body is cached never pays for the parse. A class, not an object
 * literal with an accessor: V8 builds such a literal in dictionary mode (measured: 700 ns
 * each, against 4 ns), and every row read makes one. `data` lives on the prototype, so a
 * spread copy (`{ ...row }`) does not carry it: name it (`{ ...row, data }`).
 */
class LazyStoredObject implements StoredObject {
  readonly id: string;
  readonly type: string;
  readonly created: number;
  readonly seq: number;
  readonly version: number;
  readonly deleted: boolean;
  #text: string;
  #parsed: Record<string, any> | undefined = undefined;
  constructor(row: { id: string; type: string; created: number; seq: number; version: number; deleted: boolean }, text: string) {
    this.id = row.id;
    this.type = row.type;
    this.created = row.created;
    this.seq = row.seq;
    this.version = row.version;
    this.deleted = row.deleted;
    this.#text = text;
  }
  get data(): Record<string, any> { return (this.#parsed ??= JSON.parse(this.#text) as Record<string, any>); }
  set data(value: Record<string, any>) { this.#parsed = value; }
}

export function storedFromRow(row: { id: string; type: string; created: number; seq: number; version: number; deleted: boolean }, text: string): StoredObject {
  return new LazyStoredObject(row, text);
}

/** A secondary index entry: lists and searches may look objects up by (field, value). */
export interface IndexEntry {
  field: string;
  value: string;
}

export interface NewObject {
  id: string;
  type: string;
  created: number;
  data: Record<string, any>;
  /** JSON.stringify(data), when the caller has it already (it is stored as given). */
  json?: string;
  index: IndexEntry[];
}

export interface ObjectUpdate {
  id: string;
  /** The version read; the write fails with ConflictError if another writer got there first. */
  version: number;
  data: Record<string, any>;
  /** JSON.stringify(data), when the caller has it already (it is stored as given). */
  json?: string;
  index: IndexEntry[];
  deleted?: boolean;
}

/** Position in the (created, seq) order used by lists. */
export interface Cursor {
  created: number;
  seq: number;
}

export interface ScanQuery {
  type: string;
  /** Restrict to objects with this index entry. */
  index?: IndexEntry;
  /** Restrict to objects whose index value for `field` starts with `prefix`. */
  indexPrefix?: { field: string; prefix: string };
  created?: { gt?: number; gte?: number; lt?: number; lte?: number };
  /** Exclusive bound: `older` scans rows before it (newest first), `newer` rows after it (oldest first). */
  after?: Cursor;
  direction: 'older' | 'newer';
  limit: number;
  includeDeleted?: boolean;
}

export class ConflictError extends Error {
  constructor(id: string) {
    super(`concurrent update of ${id}`);
  }
}

export interface IdempotencyRecord {
  requestHash: string;
  state: 'pending' | 'done';
  status: number | null;
  body: string | null;
  createdMs: number;
  lockedUntilMs: number;
}

// ---- Webhook outbox: one row per (event, endpoint), written in the event's transaction and
// claimed by delivery workers with a lease (several processes share a PostgreSQL outbox).

export type DeliveryState = 'pending' | 'delivered' | 'failed';

export interface DeliveryAttempt {
  /** Unix ms the attempt started. */
  at: number;
  /** HTTP status, or null when no response came (refused, timeout). */
  status: number | null;
  latencyMs: number;
  /** First bytes of the response body, or the network error. */
  excerpt: string;
}

export interface NewDelivery {
  id: string;
  eventId: string;
  endpointId: string;
  createdMs: number;
}

export interface Delivery extends NewDelivery {
  account: string;
  livemode: boolean;
  state: DeliveryState;
  /** Attempts made so far. */
  attempts: number;
  nextAttemptMs: number;
  leaseUntilMs: number;
  attemptLog: DeliveryAttempt[];
}

export interface DeliveryUpdate {
  id: string;
  /** The lease the claimer holds; the write is skipped (returns false) if it was lost. */
  leaseUntilMs: number;
  state: DeliveryState;
  attempts: number;
  nextAttemptMs: number;
  attemptLog: DeliveryAttempt[];
}

// ---- Timers: work that falls due at a time (src/engine/scheduler.ts). One row per
// (account, mode, kind, key); a test clock's timers carry its id, real-time ones null.

export interface Timer {
  kind: string;
  key: string;
  /** Unix seconds the work falls due. */
  at: number;
  testClock: string | null;
}

/** What `aggregate` reads: the rows one index entry selects (deleted ones left out), in a created range. */
export interface AggregateQuery {
  type: string;
  index: IndexEntry;
  created?: ScanQuery['created'];
  /** Path of a numeric field (a number or a decimal string) in the object's JSON, e.g. ['payload', 'value']. */
  path: string[];
}

/** count of the rows; sum of the field (non-numeric and absent values count 0); the field of the latest row by (created, seq), null if none. */
export interface FieldAggregate {
  count: number;
  sum: number;
  last: number | null;
}

export interface ReadOps {
  get(scope: Scope, id: string): Promise<StoredObject | null>;
  /**
   * Aggregates a numeric field in the database, without reading the rows out (meter usage over
   * a billing period). Optional: callers fall back to `scan` when a store lacks it.
   */
  aggregate?(scope: Scope, q: AggregateQuery): Promise<FieldAggregate>;
  /** Rows in (created, seq) order, newest first for 'older'. */
  scan(scope: Scope, q: ScanQuery): Promise<StoredObject[]>;
  /** Cheap count for `total_count` and tests. */
  count(scope: Scope, q: Omit<ScanQuery, 'limit' | 'direction' | 'after'>): Promise<number>;
}

export interface Tx extends ReadOps {
  /** Reads an object and locks it against concurrent writers until the transaction ends. */
  getForUpdate(scope: Scope, id: string): Promise<StoredObject | null>;
  insert(scope: Scope, obj: NewObject): Promise<StoredObject>;
  update(scope: Scope, obj: ObjectUpdate): Promise<StoredObject>;
  /** Completes an idempotency claim in the same transaction as the state change. */
  finishIdempotency(scope: Scope, key: string, status: number, body: string): Promise<void>;
  /** Runs after a successful commit (e.g. wake the webhook worker). */
  afterCommit(fn: () => void): void;
  /** Adds webhook outbox rows (with the event that causes them), due at once. */
  insertDeliveries(scope: Scope, rows: NewDelivery[]): Promise<void>;
  /** Records an attempt's outcome if the caller still holds the row's lease; false otherwise. */
  updateDelivery(u: DeliveryUpdate): Promise<boolean>;
  /** Schedules a timer, replacing the one of the same kind and key in this scope. */
  setTimer(scope: Scope, t: Timer): Promise<void>;
  /** Removes one timer; false when there was none. */
  deleteTimer(scope: Scope, kind: string, key: string): Promise<boolean>;
  /** Removes every timer of a test clock (the clock was deleted). */
  deleteClockTimers(scope: Scope, testClock: string): Promise<void>;
  /**
   * For caches of a small set of objects kept across transactions (the webhook endpoints every
   * event is matched against): a number that changes whenever an object of `type` may have
   * changed since it was last returned, by this process (committed or not) or by another.
   * Optional: a store that cannot tell (PostgreSQL: other servers commit unseen) leaves it out,
   * and callers read within the transaction.
   */
  changeEpoch?(type: string): number;
  /**
   * Timers of this scope and clock due at or before `until`, earliest first (ties by kind,
   * key). On PostgreSQL the rows are locked, and rows another transaction holds are skipped,
   * so two processes never run the same timer.
   */
  dueTimers(scope: Scope, testClock: string | null, until: number, limit: number): Promise<Timer[]>;
}

/**
 * Thrown when recording a result finds that another process already recorded one for the
 * key (the embedded store, shared by processes, notices only then): the request's own work is
 * rolled back and the recorded response is the answer.
 */
export class IdempotencyTaken extends Error {
  constructor(readonly record: IdempotencyRecord) {
    super('idempotency key already used');
  }
}

export type ClaimResult =
  | { kind: 'claimed' }
  | { kind: 'existing'; record: IdempotencyRecord };

export interface Store extends ReadOps {
  readonly kind: 'sqlite' | 'postgres';
  /** Runs fn in one transaction; retried on ConflictError a few times. */
  transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T>;
  /**
   * Claims an idempotency key for a request about to execute. If a live claim or a finished
   * record exists, returns it instead. A pending claim older than its lease (a crashed
   * process) is taken over.
   */
  claimIdempotency(scope: Scope, key: string, requestHash: string, nowMs: number, leaseMs: number): Promise<ClaimResult>;
  /** Records a response outside a state-changing transaction (errors after execution began). */
  finishIdempotency(scope: Scope, key: string, status: number, body: string): Promise<void>;
  /** Drops a claim whose request never produced a storable result. */
  releaseIdempotency(scope: Scope, key: string): Promise<void>;
  /** Deletes idempotency records older than the cutoff. */
  expireIdempotency(beforeMs: number): Promise<number>;
  /**
   * Claims up to `limit` pending deliveries due at `nowMs` whose lease is free, leasing them
   * until `leaseUntilMs`; a row is handed to one claimer at a time, across processes.
   */
  claimDeliveries(nowMs: number, leaseUntilMs: number, limit: number): Promise<Delivery[]>;
  /** Deliveries of one account and mode, newest first, optionally of one event or endpoint. */
  listDeliveries(scope: Scope, q: { eventId?: string; endpointId?: string; limit: number }): Promise<Delivery[]>;
  /**
   * Since when (Unix ms) the endpoint has failed without a success in between: the first
   * attempt of its oldest undelivered, attempted row newer than its last success; null if none.
   */
  endpointFailingSince(scope: Scope, endpointId: string): Promise<number | null>;
  /** Deletes finished (delivered or failed) outbox rows created before the cutoff. */
  expireDeliveries(beforeMs: number): Promise<number>;
  /** Account+mode pairs with real-time (clockless) timers due at or before `until`. */
  dueTimerScopes(until: number, limit: number): Promise<Scope[]>;
  /** Deletes every object of one account (both modes), or of everyone. */
  reset(account?: string): Promise<void>;
  close(): Promise<void>;
}

export const MAX_CONFLICT_RETRIES = 5;

/** How long a recorded response answers its Idempotency-Key (Stripe keeps them 24 hours). */
export const IDEMPOTENCY_TTL_MS = 24 * 3600 * 1000;
