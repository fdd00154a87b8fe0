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
// Who calls runDue:
//   - A test clock advance (src/resources/test-clocks.ts) runs runDue for that clock up to the
//     new frozen_time, in the advance's transaction, before the clock becomes ready.
//   - Real time (no clock): today nothing calls it yet. The payments engine settles lazily on
//     read: settleDueRefunds (src/resources/refunds.ts), settleDuePayouts
//     (src/resources/payouts.ts) and settleDueBankDebits (src/resources/bank-debits.ts) each
//     scan their own "pending" index and settle what is due before a read. They should move
//     onto this scheduler as handlers of kinds 'refund.settle', 'payout.settle' and
//     'bank_debit.settle' (their scan becomes `due`, their settle step becomes `run`), and the
//     read paths call `runDue(ctx, ctx.now(), { testClock: null })` instead, so there is one
//     mechanism; a background tick in the server (src/server.ts) would then run runDue per
//     account+mode with due work so webhooks fire without a read. Subscriptions and invoices
//     (issue 7) register their handlers here from the start ('subscription.renew',
//     'subscription.trial_end', 'subscription.trial_will_end', 'invoice.finalize',
//     'invoice.pay', 'invoice.retry', 'subscription_schedule.phase',
//     'subscription.incomplete_expire'), selecting objects by a `due_at` index entry plus the
//     owning customer's test_clock (null for real time).
import type { WriteContext } from '../api/context.js';

export interface DueItem {
  /** Unix seconds the work falls due. */
  at: number;
  /** Identifies the item within its kind (an object id, id + period, …); orders ties. */
  key: string;
}

export interface TimeHandler {
  /** Due items of this kind at or before `until`, earliest first (a prefix suffices). */
  due(ctx: WriteContext, testClock: string | null, until: number): Promise<DueItem[]>;
  /** Does the work; `ctx.now()` is `item.at`. */
  run(ctx: WriteContext, item: DueItem, testClock: string | null): Promise<void>;
}

const handlers = new Map<string, TimeHandler>();

/** Registers (or replaces) the handler of a kind of timed work. Returns a function that removes it. */
export function registerTimeHandler(kind: string, handler: TimeHandler): () => void {
  handlers.set(kind, handler);
  return () => { if (handlers.get(kind) === handler) handlers.delete(kind); };
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
    let next: { kind: string; handler: TimeHandler; item: DueItem } | undefined;
    for (const [kind, handler] of handlers) {
      const items = await handler.due(ctx, testClock, until);
      for (const item of items) {
        if (item.at > until) continue;
        if (!next || item.at < next.item.at) next = { kind, handler, item };
        break; // items are earliest first: the first one in range is this kind's candidate
      }
    }
    if (!next) return { ran };
    const { kind, handler, item } = next;
    if (last && last.kind === kind && last.key === item.key && last.at === item.at) {
      throw new Error(`scheduler: ${kind} ${item.key} at ${item.at} is still due after running`);
    }
    if (ran.length >= maxItems) throw new Error(`scheduler: more than ${maxItems} items due before ${until}`);
    const at = item.at;
    const itemCtx: WriteContext = Object.assign(Object.create(Object.getPrototypeOf(ctx)), ctx, { now: () => at });
    await handler.run(itemCtx, item, testClock);
    last = { kind, at, key: item.key };
    ran.push(last);
  }
}
