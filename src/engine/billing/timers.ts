// Billing's timed work on the scheduler's timers (src/engine/scheduler.ts): invoice
// finalization after the draft period ('invoice.finalize'), the payment attempt that follows
// ('invoice.pay') and dunning retries ('invoice.retry'). A thin layer so billing code names one
// module; the timer rows, their clocks and the real-time tick are the scheduler's.
import type { WriteContext } from '../../api/context.js';
import { cancelTimer as cancel, registerTimeHandler, scheduleTimer as schedule, type TimerSpec } from '../scheduler.js';

export type { TimerSpec };

export interface TimerHandler {
  run(ctx: WriteContext, item: { at: number; key: string }, testClock: string | null): Promise<void>;
}

export async function scheduleTimer(ctx: WriteContext, t: TimerSpec): Promise<void> {
  await schedule(ctx, t);
}

export async function cancelTimer(ctx: WriteContext, kind: string, key: string): Promise<void> {
  await cancel(ctx, kind, key);
}

export function registerTimer(kind: string, handler: TimerHandler): void {
  registerTimeHandler(kind, { run: (ctx, item, testClock) => handler.run(ctx, item, testClock) });
}
