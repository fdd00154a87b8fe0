// Timers of the subscriptions engine, behind the scheduler's timer API (scheduleTimer /
// cancelTimer / registerTimeHandler of src/engine/scheduler.ts). This module only re-exports
// that API under the names the subscriptions engine uses, so the engine has one import site.
import type { WriteContext } from '../../api/context.js';
import { cancelTimer as cancel, registerTimeHandler, scheduleTimer as schedule } from '../scheduler.js';

export interface TimerSpec { kind: string; key: string; at: number; testClock: string | null }

export async function scheduleTimer(ctx: WriteContext, t: TimerSpec): Promise<void> {
  await schedule(ctx, t);
}

export async function cancelTimer(ctx: WriteContext, kind: string, key: string): Promise<void> {
  await cancel(ctx, kind, key);
}

export function registerTimer(kind: string, run: (ctx: WriteContext, item: { at: number; key: string }, testClock: string | null) => Promise<void>): void {
  registerTimeHandler(kind, { run });
}
