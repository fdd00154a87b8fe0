// The scheduler's timers: work written to fall due at a time, run by a test clock advance
// (objects living in the clock's time) or by the server's real-time tick (everything else).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FrozenClock } from '../src/api/clock.js';
import type { WriteContext } from '../src/api/context.js';
import { CURRENT_API_VERSION } from '../src/api/versions.js';
import { accountIdFor } from '../src/http/auth.js';
import { cancelTimer, registerTimeHandler, scheduleTimer, TimerTick, type DueItem } from '../src/engine/scheduler.js';
import type { Scope } from '../src/store/store.js';
import { freshKey, startTestServer, type TestServer } from './helpers/server.js';

let t: TestServer;
const T0 = 1_760_000_000;
const clock = new FrozenClock(T0);
before(async () => { t = await startTestServer({ clock, schedulerTickMs: false }); });
after(() => t.close());

const DAY = 86_400;
const scopeOf = (key: string): Scope => ({ account: accountIdFor(key.replace(/^sk_test_/, '')), livemode: false });

/** Runs fn in a store transaction as scheduler-side code would (no request). */
function inTx<T>(scope: Scope, fn: (ctx: WriteContext) => Promise<T>): Promise<T> {
  const { services } = t.server;
  return services.store.transaction((tx) => fn({
    scope, services, requestId: '', idempotencyKey: null, apiVersion: CURRENT_API_VERSION,
    keyKind: 'secret', maskedKey: '', now: () => services.clock.now(), db: tx, tx,
  }));
}

interface Ran { kind: string; key: string; at: number; now: number; clock: string | null; account: string }

/** Registers handlers for the kinds given, recording each run; `then` may schedule follow-up work. */
function recordKinds(kinds: string[], then?: (ctx: WriteContext, kind: string, item: DueItem) => Promise<void>) {
  const ran: Ran[] = [];
  const offs = kinds.map((kind) => registerTimeHandler(kind, {
    async run(ctx, item, testClock) {
      ran.push({ kind, key: item.key, at: item.at, now: ctx.now(), clock: testClock, account: ctx.scope.account });
      await then?.(ctx, kind, item);
    },
  }));
  return { ran, off: () => offs.forEach((o) => o()) };
}

describe('timers', () => {
  test('a test clock advance runs its timers in time order; a run may schedule the next; cancelled timers never run', async () => {
    const key = freshKey();
    const s = t.stripe(key);
    const scope = scopeOf(key);
    const c = await s.testHelpers.testClocks.create({ frozen_time: T0 });
    // A monthly-ish renewal that reschedules itself, a one-off, and a cancelled one-off.
    const { ran, off } = recordKinds(['t1.renew', 't1.once', 't1.cancelled'], async (ctx, kind, item) => {
      if (kind === 't1.renew') await scheduleTimer(ctx, { kind, key: item.key, at: item.at + 30 * DAY, testClock: c.id });
    });
    try {
      await inTx(scope, async (ctx) => {
        await scheduleTimer(ctx, { kind: 't1.renew', key: 'sub_1', at: T0 + 30 * DAY, testClock: c.id });
        await scheduleTimer(ctx, { kind: 't1.once', key: 'in_1', at: T0 + 45 * DAY, testClock: c.id });
        await scheduleTimer(ctx, { kind: 't1.cancelled', key: 'x', at: T0 + DAY, testClock: c.id });
        // Rescheduling moves a timer rather than adding a second one.
        await scheduleTimer(ctx, { kind: 't1.once', key: 'in_1', at: T0 + 50 * DAY, testClock: c.id });
        assert.equal(await cancelTimer(ctx, 't1.cancelled', 'x'), true);
        assert.equal(await cancelTimer(ctx, 't1.cancelled', 'x'), false);
      });
      await s.testHelpers.testClocks.advance(c.id, { frozen_time: T0 + 100 * DAY });
      assert.deepEqual(ran.map((r) => [r.kind, (r.at - T0) / DAY]), [['t1.renew', 30], ['t1.once', 50], ['t1.renew', 60], ['t1.renew', 90]]);
      assert.ok(ran.every((r) => r.now === r.at && r.clock === c.id && r.account === scope.account));
      // The real-time tick never runs clock work, even long after it is due in real time.
      ran.length = 0;
      clock.set(clock.now() + 400 * DAY);
      await t.server.scheduler.tick();
      assert.equal(ran.length, 0);
      // Deleting the clock drops its pending work (the renewal at day 120).
      await s.testHelpers.testClocks.del(c.id);
      const due = await inTx(scope, (ctx) => ctx.tx.dueTimers(scope, c.id, T0 + 10_000 * DAY, 10));
      assert.deepEqual(due, []);
    } finally { off(); }
  });

  test('the real-time tick runs clockless timers of every account once they are due, with request id null on their events', async () => {
    const keyA = freshKey(); const keyB = freshKey();
    const a = scopeOf(keyA); const b = scopeOf(keyB);
    const now = clock.now();
    const { ran, off } = recordKinds(['t2.settle']);
    try {
      await inTx(a, (ctx) => scheduleTimer(ctx, { kind: 't2.settle', key: 're_a', at: now + 60, testClock: null }));
      await inTx(b, (ctx) => scheduleTimer(ctx, { kind: 't2.settle', key: 're_b', at: now + 120, testClock: null }));
      await t.server.scheduler.tick();
      assert.equal(ran.length, 0, 'nothing is due yet');
      clock.set(clock.now() + 90);
      await t.server.scheduler.tick();
      assert.deepEqual(ran.map((r) => [r.key, r.account, r.at - now, r.now - now]), [['re_a', a.account, 60, 60]]);
      clock.set(clock.now() + 60);
      await t.server.scheduler.tick();
      await t.server.scheduler.tick();
      assert.deepEqual(ran.map((r) => r.key), ['re_a', 're_b'], 'each timer runs exactly once');
    } finally { off(); }
  });

  test('a failing timer is retried on the next tick and does not hold up other accounts', async () => {
    const keyA = freshKey(); const keyB = freshKey();
    const a = scopeOf(keyA); const b = scopeOf(keyB);
    const now = clock.now();
    let failures = 1;
    const done: string[] = [];
    const off = registerTimeHandler('t3.flaky', {
      async run(ctx, item) {
        if (ctx.scope.account === a.account && failures-- > 0) throw new Error('boom');
        done.push(item.key);
      },
    });
    try {
      await inTx(a, (ctx) => scheduleTimer(ctx, { kind: 't3.flaky', key: 'a', at: now, testClock: null }));
      await inTx(b, (ctx) => scheduleTimer(ctx, { kind: 't3.flaky', key: 'b', at: now, testClock: null }));
      await t.server.scheduler.tick();
      assert.deepEqual(done, ['b'], "a's failure rolled back its own run only");
      await t.server.scheduler.tick();
      assert.deepEqual(done, ['b', 'a'], 'the timer survived its failed run');
    } finally { off(); }
  });

  test('two ticks racing over one store run each timer once', async () => {
    const scope = scopeOf(freshKey());
    const now = clock.now();
    const keys = Array.from({ length: 20 }, (_, i) => `k${String(i).padStart(2, '0')}`);
    const { ran, off } = recordKinds(['t4.once']);
    const logger = { warn() {} } as any;
    const ticks = [new TimerTick(t.server.services, logger), new TimerTick(t.server.services, logger)];
    try {
      await inTx(scope, async (ctx) => { for (const k of keys) await scheduleTimer(ctx, { kind: 't4.once', key: k, at: now, testClock: null }); });
      await Promise.all(ticks.map((x) => x.tick()));
      await Promise.all(ticks.map((x) => x.tick()));
      assert.deepEqual(ran.map((r) => r.key).sort(), keys);
    } finally {
      off();
      await Promise.all(ticks.map((x) => x.close()));
    }
  });

  test('a timer must fall on a whole second', async () => {
    const scope = scopeOf(freshKey());
    await assert.rejects(inTx(scope, (ctx) => scheduleTimer(ctx, { kind: 'x', key: 'y', at: 1.5, testClock: null })), /not a whole second/);
  });
});
