// Runs the scheduler's real-time work of one account, as the server's tick would, but for that
// account only: on PostgreSQL every test server shares one database, and a server-wide tick would
// also run (or be raced by) other test files' timers. Payments tests therefore start their
// server with `schedulerTickMs: false` and a FrozenClock at PAYMENTS_EPOCH, later than any real
// or frozen clock elsewhere in the suite, so no other server's tick runs their timers either.
import { runDue, type RunDueResult } from '../../src/engine/scheduler.js';
import { asAccount } from './context.js';
import type { TestServer } from './server.js';

/** 2033-05-18: later than the real clock and every other suite's frozen clock. */
export const PAYMENTS_EPOCH = 2_000_000_000;

/** Runs the account's clockless timers due now (the server clock), in one transaction. */
export function runDueFor(t: TestServer, key: string): Promise<RunDueResult> {
  return asAccount(t, key, (ctx) => runDue({ ...ctx, requestId: '' }, ctx.now(), { testClock: null }));
}
