// The scheduler: the one code path for "what happens when time passes".
//
// Work that becomes due at a point in time (a subscription renewal, a trial end, an invoice's
// finalization after its one-hour draft period, a payment retry, a schedule phase, an
// incomplete subscription's expiry, a refund or payout settling) is a *time handler* of some
// `kind`, registered once with `registerTimeHandler`. A handler answers two questions:
//   - `due(ctx, clock, until)`: what of this kind is due at or before `until` in this
//     account+mode (and, when `clock` is a test clock id, only for objects living in that
//     clock's time; when it is null, only for objects living in real time)? It returns
//     items `{ at, key }`, earliest first; it may return only the first few.
//   - `run(ctx, item)`: do the work of one item. `ctx.now()` is the item's `at`, so every
//     object and Event it writes takes its `created` from the moment the work fell due.
//     Running an item must make it no longer due (or due later: a renewal schedules the next
//     period), or runDue stops with an error rather than loop.
//
// `runDue(ctx, until, { testClock })` repeatedly asks every handler for its earliest due item,
// runs the earliest of all (ties: registration order, then the handler's own order), and asks again, so work
// created by earlier work (an invoice created by a renewal, finalized an hour later) runs in
// time order within the same call, and recurring work runs exactly as many times as it falls
// in the interval. Everything happens inside the caller's transaction.
//
// Most work is a *timer*: a row (kind, key, at, test clock) written with `scheduleTimer` in the
// transaction that makes the work due (the refund that goes pending, the invoice drafted with
// auto_advance) and removed with `cancelTimer` when it no longer is. The handler then needs only
// `run`; runDue finds timers itself and deletes each row just before running it, so `run` may
// schedule the next occurrence (a renewal schedules the next period). A handler may instead
// implement `due` to find work by its own query.
//
// Who calls runDue:
//   - A test clock advance (src/resources/test-clocks.ts) runs runDue for that clock up to the
//     new frozen_time, in the advance's transaction, before the clock becomes ready.
//   - Real time: the background tick (TimerTick below, started by src/server.ts) asks the store
//     which account+mode pairs have clockless timers due, and runs runDue for each in its own
//     transaction, so the work and its webhooks happen without anybody reading. On PostgreSQL
//     due timer rows are locked with SKIP LOCKED, so two processes never run the same timer.
//
// Work done by the scheduler is not a request: its Events carry `request: { id: null,
// idempotency_key: null }`, as Stripe's automatic events do.
import type { Logger } from 'pino';
import type { Services, WriteContext } from '../api/context.js';
import { CURRENT_API_VERSION } from '../api/versions.js';
import type { Scope } from '../store/store.js';

export interface DueItem {
  /** Unix seconds the work falls due. */
  at: number;
  /** Identifies the item within its kind (an object id, id + period, …); orders ties. */
  key: string;
}

export interface TimeHandler {
  /**
   * Due items of this kind at or before `until`, earliest first (a prefix suffices), for a
   * handler that finds its work itself; handlers fed by timers leave it out.
   */
  due?(ctx: WriteContext, testClock: string | null, until: number): Promise<DueItem[]>;
  /** Does the work; `ctx.now()` is `item.at`. */
  run(ctx: WriteContext, item: DueItem, testClock: string | null): Promise<void>;
}

const handlers = new Map<string, TimeHandler>();

/** Registers (or replaces) the handler of a kind of timed work. Returns a function that removes it. */
export function registerTimeHandler(kind: string, handler: TimeHandler): () => void {
  handlers.set(kind, handler);
  return () => { if (handlers.get(kind) === handler) handlers.delete(kind); };
}

export interface TimerSpec {
  kind: string;
  key: string;
  /** Unix seconds the work falls due. */
  at: number;
  /** The test clock the owning object lives in (its customer's `test_clock`), or null. */
  testClock: string | null;
}

/** Schedules work of `kind` (which must have a handler) at `at`; replaces the same kind+key's timer. */
export async function scheduleTimer(ctx: WriteContext, timer: TimerSpec): Promise<void> {
  if (!Number.isInteger(timer.at)) throw new Error(`scheduler: timer ${timer.kind} ${timer.key} at ${timer.at} is not a whole second`);
  await ctx.tx.setTimer(ctx.scope, timer);
}

/** Removes a scheduled timer (no-op when there is none); true when one was removed. */
export async function cancelTimer(ctx: WriteContext, kind: string, key: string): Promise<boolean> {
  return ctx.tx.deleteTimer(ctx.scope, kind, key);
}

export interface RunDueOptions {
  /** Test clock whose objects to run (null or absent: objects living in real time). */
  testClock?: string | null;
  /** Safety bound on the number of items one call may run. */
  maxItems?: number;
}

export interface RunDueResult {
  /** Items run, in the order they ran. */
  ran: Array<{ kind: string; at: number; key: string }>;
}

/** Runs, in time order, every piece of work due at or before `until`. */
export async function runDue(ctx: WriteContext, until: number, options: RunDueOptions = {}): Promise<RunDueResult> {
  const testClock = options.testClock ?? null;
  const maxItems = options.maxItems ?? 100_000;
  const ran: RunDueResult['ran'] = [];
  let last: { kind: string; at: number; key: string } | undefined;
  for (;;) {
    let next: { kind: string; handler: TimeHandler; item: DueItem; timer: boolean } | undefined;
    const [timer] = await ctx.tx.dueTimers(ctx.scope, testClock, until, 1);
    if (timer) {
      const handler = handlers.get(timer.kind);
      if (!handler) throw new Error(`scheduler: no handler for timer kind ${timer.kind}`);
      next = { kind: timer.kind, handler, item: { at: timer.at, key: timer.key }, timer: true };
    }
    for (const [kind, handler] of handlers) {
      if (!handler.due) continue;
      const items = await handler.due(ctx, testClock, until);
      for (const item of items) {
        if (item.at > until) continue;
        if (!next || item.at < next.item.at) next = { kind, handler, item, timer: false };
        break; // items are earliest first: the first one in range is this kind's candidate
      }
    }
    if (!next) return { ran };
    const { kind, handler, item } = next;
    if (next.timer) await ctx.tx.deleteTimer(ctx.scope, kind, item.key);
    if (last && last.kind === kind && last.key === item.key && last.at === item.at) {
      throw new Error(`scheduler: ${kind} ${item.key} at ${item.at} is still due after running`);
    }
    if (ran.length >= maxItems) throw new Error(`scheduler: more than ${maxItems} items due before ${until}`);
    const at = item.at;
    const itemCtx: WriteContext = Object.assign(Object.create(Object.getPrototypeOf(ctx)), ctx, { now: () => at, requestId: '', idempotencyKey: null });
    await handler.run(itemCtx, item, testClock);
    last = { kind, at, key: item.key };
    ran.push(last);
  }
}

/**
 * The real-time side of the scheduler: every `intervalMs`, runs the due clockless timers of every
 * account and mode, each scope in its own transaction (a failure in one is logged and retried on
 * the next tick, and does not hold up the others).
 */
export class TimerTick {
  private handle: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly services: Services, private readonly logger: Logger, private readonly intervalMs = 1000) {}

  start(): void {
    this.handle = setInterval(() => { void this.tick(); }, this.intervalMs);
    this.handle.unref();
  }

  /** Runs what is due now (also called directly by tests); overlapping calls share one run. */
  tick(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    this.running ??= this.runOnce().finally(() => { this.running = undefined; });
    return this.running;
  }

  private async runOnce(): Promise<void> {
    const { store, clock } = this.services;
    const now = clock.now();
    let scopes: Scope[];
    try {
      scopes = await store.dueTimerScopes(now, 100);
    } catch (err) {
      this.logger.warn({ err }, 'scheduler: finding due timers failed');
      return;
    }
    for (const scope of scopes) {
      if (this.stopped) return;
      try {
        await store.transaction(async (tx) => {
          const ctx: WriteContext = {
            scope, services: this.services, requestId: '', idempotencyKey: null, apiVersion: CURRENT_API_VERSION,
            keyKind: 'secret', maskedKey: '', now: () => now, db: tx, tx,
          };
          await runDue(ctx, now, { testClock: null, maxItems: 1000 });
        });
      } catch (err) {
        this.logger.warn({ err, account: scope.account, livemode: scope.livemode }, 'scheduler: running due timers failed');
      }
    }
  }

  /** Stops ticking and waits for a tick in progress. */
  async close(): Promise<void> {
    this.stopped = true;
    if (this.handle) clearInterval(this.handle);
    await this.running;
  }
}
