// Test clocks — https://docs.stripe.com/api/test_clocks
// Create (frozen_time, name), retrieve, list, delete (deletes the clock's customers, each with
// its customer.deleted event) and advance. Advancing runs the scheduler (src/engine/scheduler.ts)
// for the clock up to the new frozen_time: every piece of timed work of the clock's objects
// that falls in the interval runs, in time order. It all happens in the advance's transaction;
// the response is the clock as Stripe returns it, `advancing` with
// status_details.advancing.target_frozen_time, and the stored clock is `ready` at the new time
// once the request returns (events test_helpers.test_clock.advancing, then .ready).
import { invalidRequest } from '../api/errors.js';
import type { Params } from '../api/params.js';
import type { ReadContext, WriteContext } from '../api/context.js';
import { emitEvent } from '../events/events.js';
import { runDue } from '../engine/scheduler.js';
import type { StoredObject } from '../store/store.js';
import { customers } from './customers.js';
import { eventView, missingObject, type Obj, type ResourceDef } from './define.js';

export const TEST_CLOCK_OBJECT = 'test_helpers.test_clock';
/** Stripe deletes a test clock seven days after its creation (`deletes_after`). */
const LIFETIME_SECONDS = 7 * 24 * 3600;

async function loadClock(ctx: ReadContext, id: string, forUpdate = false): Promise<StoredObject> {
  const found = forUpdate ? await (ctx as WriteContext).tx.getForUpdate(ctx.scope, id) : await ctx.db.get(ctx.scope, id);
  if (!found || found.type !== TEST_CLOCK_OBJECT || found.deleted) throw await missingObject(ctx, 'test_clock', TEST_CLOCK_OBJECT, id);
  return found;
}

/** The clock's customers (not yet deleted). */
async function clockCustomers(ctx: ReadContext, clockId: string): Promise<StoredObject[]> {
  const out: StoredObject[] = [];
  let after: StoredObject | undefined;
  for (;;) {
    const rows = await ctx.db.scan(ctx.scope, {
      type: 'customer', index: { field: 'test_clock', value: clockId }, direction: 'newer', limit: 100,
      ...(after ? { after: { created: after.created, seq: after.seq } } : {}),
    });
    out.push(...rows.filter((r) => !r.deleted));
    if (rows.length < 100) return out;
    after = rows[rows.length - 1];
  }
}

/** Deletes a customer as DELETE /v1/customers/{id} does (hook, tombstone, customer.deleted). */
async function deleteCustomer(ctx: WriteContext, row: StoredObject): Promise<void> {
  const current = (await ctx.tx.getForUpdate(ctx.scope, row.id)) ?? row;
  if (current.deleted) return;
  await customers.delete?.(ctx, current.data);
  const latest = (await ctx.tx.getForUpdate(ctx.scope, row.id)) ?? current;
  await ctx.tx.update(ctx.scope, { id: latest.id, version: latest.version, data: latest.data, index: [], deleted: true });
  await emitEvent(ctx, 'customer.deleted', eventView(customers, latest.data));
}

/** The same moment two calendar years later (UTC; 29 February becomes 1 March). */
export function twoYearsAfter(seconds: number): number {
  const d = new Date(seconds * 1000);
  d.setUTCFullYear(d.getUTCFullYear() + 2);
  return Math.floor(d.getTime() / 1000);
}

/** Further limits on an advance's target, registered by the families that impose them (subscriptions). */
export type AdvanceLimit = (ctx: WriteContext, clock: Obj, target: number) => Promise<void>;
const advanceLimits: AdvanceLimit[] = [];
export function registerAdvanceLimit(fn: AdvanceLimit): void { advanceLimits.push(fn); }

async function advance(ctx: WriteContext, params: Params, id: string): Promise<Obj> {
  const current = await loadClock(ctx, id, true);
  const clock = current.data;
  const target: number = params.frozen_time;
  if (clock.status === 'advancing') {
    throw invalidRequest(`The test clock ${id} is already advancing. Wait until it is ready before advancing it again.`, undefined);
  }
  if (target <= clock.frozen_time) {
    throw invalidRequest(`The frozen_time must be after the test clock's current frozen_time (${clock.frozen_time}).`, 'frozen_time');
  }
  // "If there are no subscriptions in this test clock, it cannot be more than two years in the
  // future" (API reference). Subscriptions (two intervals of the shortest one) tighten this later.
  const limit = twoYearsAfter(clock.frozen_time);
  if (target > limit) {
    throw invalidRequest(`The frozen_time cannot be more than two years after the test clock's current frozen_time (at most ${limit}).`, 'frozen_time');
  }
  for (const check of advanceLimits) await check(ctx, clock, target);
  const advancing = { ...clock, status: 'advancing', status_details: { advancing: { target_frozen_time: target } } };
  const stored = await ctx.tx.update(ctx.scope, { id, version: current.version, data: advancing, index: [] });
  await emitEvent(ctx, 'test_helpers.test_clock.advancing', advancing);

  await runDue(ctx, target, { testClock: id });

  const latest = (await ctx.tx.getForUpdate(ctx.scope, id)) ?? stored;
  const ready = { ...latest.data, frozen_time: target, status: 'ready', status_details: {} };
  await ctx.tx.update(ctx.scope, { id, version: latest.version, data: ready, index: [] });
  await emitEvent(ctx, 'test_helpers.test_clock.ready', ready);
  return advancing;
}

export const testClocks: ResourceDef = {
  object: TEST_CLOCK_OBJECT,
  prefix: 'clock',
  path: '/v1/test_helpers/test_clocks',
  events: { created: 'test_helpers.test_clock.created' },
  standard: { retrieve: false, delete: false },

  async create(_ctx: WriteContext, p: Params, base: Obj) {
    return {
      ...base,
      deletes_after: base.created + LIFETIME_SECONDS,
      frozen_time: p.frozen_time,
      name: p.name ?? null,
      status: 'ready',
      status_details: {},
    };
  },

  operations: () => [
    {
      method: 'GET', path: '/v1/test_helpers/test_clocks/{id}', write: false,
      handler: async (ctx, _params, p) => (await loadClock(ctx, p.id!)).data,
    },
    {
      method: 'DELETE', path: '/v1/test_helpers/test_clocks/{id}', write: true,
      handler: async (ctx, _params, p) => {
        const w = ctx as WriteContext;
        const current = await loadClock(w, p.id!, true);
        for (const row of await clockCustomers(w, current.id)) await deleteCustomer(w, row);
        await w.tx.deleteClockTimers(w.scope, current.id); // nothing of the clock's is due any more
        await w.tx.update(w.scope, { id: current.id, version: current.version, data: current.data, index: [], deleted: true });
        await emitEvent(w, 'test_helpers.test_clock.deleted', current.data);
        return { id: current.id, object: TEST_CLOCK_OBJECT, deleted: true };
      },
    },
    {
      method: 'POST', path: '/v1/test_helpers/test_clocks/{id}/advance', write: true,
      handler: (ctx, params, p) => advance(ctx as WriteContext, params, p.id!),
    },
  ],
};
