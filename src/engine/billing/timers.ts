// Timers for billing work that falls due at a time (invoice finalization, payment attempts,
// dunning retries), written against the scheduler's timer API (common.md):
//   scheduleTimer(ctx, { kind, key, at, testClock }) / cancelTimer(ctx, kind, key)
//   registerTimeHandler(kind, { run(ctx, { at, key }, testClock) })
// When src/engine/scheduler.ts exports scheduleTimer (the lead's "scheduler: timers"), these
// functions delegate to it. Until then they keep one `billing_timer` object per
// (kind, key) in the generic objects table and register a `due` scan with the legacy
// scheduler, so the same handlers run in the same order either way.
import type { WriteContext } from '../../api/context.js';
import * as scheduler from '../scheduler.js';

export interface TimerSpec {
  kind: string;
  key: string;
  /** Unix seconds the work falls due. */
  at: number;
  /** The owning customer's test clock (null: real time). */
  testClock: string | null;
}

export interface TimerHandler {
  run(ctx: WriteContext, item: { at: number; key: string }, testClock: string | null): Promise<void>;
}

const api = scheduler as unknown as {
  scheduleTimer?: (ctx: WriteContext, t: TimerSpec) => Promise<void>;
  cancelTimer?: (ctx: WriteContext, kind: string, key: string) => Promise<void>;
  registerTimeHandler: (kind: string, h: any) => () => void;
};

const TIMER_TYPE = 'billing_timer';
const timerId = (kind: string, key: string) => `btmr_${kind}:${key}`;
const indexValue = (kind: string, testClock: string | null) => `${kind}|${testClock ?? ''}`;

export async function scheduleTimer(ctx: WriteContext, t: TimerSpec): Promise<void> {
  if (api.scheduleTimer) return api.scheduleTimer(ctx, t);
  const id = timerId(t.kind, t.key);
  const data = { id, kind: t.kind, key: t.key, at: t.at, test_clock: t.testClock, active: true };
  const index = [{ field: 'timer', value: indexValue(t.kind, t.testClock) }];
  const row = await ctx.tx.getForUpdate(ctx.scope, id);
  if (row) await ctx.tx.update(ctx.scope, { id, version: row.version, data, index });
  else await ctx.tx.insert(ctx.scope, { id, type: TIMER_TYPE, created: t.at, data, index });
}

export async function cancelTimer(ctx: WriteContext, kind: string, key: string): Promise<void> {
  if (api.cancelTimer) return api.cancelTimer(ctx, kind, key);
  const id = timerId(kind, key);
  const row = await ctx.tx.getForUpdate(ctx.scope, id);
  if (row && row.data.active) await ctx.tx.update(ctx.scope, { id, version: row.version, data: { ...row.data, active: false }, index: [] });
}

export function registerTimer(kind: string, handler: TimerHandler): void {
  if (api.scheduleTimer) {
    api.registerTimeHandler(kind, { run: handler.run });
    return;
  }
  api.registerTimeHandler(kind, {
    async due(ctx: WriteContext, testClock: string | null, until: number) {
      if (!ctx?.tx) return [];
      const rows = await ctx.tx.scan(ctx.scope, { type: TIMER_TYPE, index: { field: 'timer', value: indexValue(kind, testClock) }, direction: 'newer', limit: 1000 });
      return rows.map((r) => r.data).filter((d) => d.active && d.at <= until)
        .sort((a, b) => a.at - b.at || (a.key < b.key ? -1 : 1)).map((d) => ({ at: d.at, key: d.key }));
    },
    async run(ctx: WriteContext, item: { at: number; key: string }, testClock: string | null) {
      // The legacy scheduler does not delete the row: do it before running, as timers do.
      await cancelTimer(ctx, kind, item.key);
      await handler.run(ctx, item, testClock);
    },
  });
}
