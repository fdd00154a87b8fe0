// Test clocks through the official SDK, and the scheduler they drive.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Stripe from 'stripe';
import { FrozenClock } from '../src/api/clock.js';
import { registerTimeHandler, runDue, type DueItem } from '../src/engine/scheduler.js';
import { twoYearsAfter } from '../src/resources/test-clocks.js';
import { freshKey, startTestServer, type TestServer } from './helpers/server.js';
import { rejects } from './helpers/errors.js';

let t: TestServer;
const T0 = 1_750_000_000;
const clock = new FrozenClock(T0);
before(async () => { t = await startTestServer({ clock }); });
after(() => t.close());

const account = () => t.stripe(freshKey());

const KEYS = ['created', 'deletes_after', 'frozen_time', 'id', 'livemode', 'name', 'object', 'status', 'status_details'];
const DAY = 86_400;

async function eventTypes(s: Stripe): Promise<string[]> {
  return (await s.events.list({ limit: 100 })).data.map((e) => e.type).reverse();
}

describe('test clocks', () => {
  test('create, retrieve, list: Stripe\'s shape; created event', async () => {
    const s = account();
    const frozen = T0 - 30 * DAY;
    const c = await s.testHelpers.testClocks.create({ frozen_time: frozen, name: 'Annual renewal' });
    assert.deepEqual(Object.keys(c).sort(), KEYS);
    assert.match(c.id, /^clock_[A-Za-z0-9]{24}$/);
    assert.equal(c.object, 'test_helpers.test_clock');
    assert.equal(c.created, T0);
    assert.equal(c.deletes_after, T0 + 7 * DAY);
    assert.equal(c.frozen_time, frozen);
    assert.equal(c.livemode, false);
    assert.equal(c.name, 'Annual renewal');
    assert.equal(c.status, 'ready');
    assert.deepEqual(c.status_details, {});
    assert.deepEqual(await s.testHelpers.testClocks.retrieve(c.id), c);
    const unnamed = await s.testHelpers.testClocks.create({ frozen_time: T0 });
    assert.equal(unnamed.name, null);
    const list = await s.testHelpers.testClocks.list({ limit: 1 });
    assert.deepEqual(list.data.map((x) => x.id), [unnamed.id]);
    assert.equal(list.has_more, true);
    assert.deepEqual((await s.testHelpers.testClocks.list({ starting_after: unnamed.id })).data, [c]);
    const events = await s.events.list();
    assert.deepEqual(events.data.map((e) => e.type), ['test_helpers.test_clock.created', 'test_helpers.test_clock.created']);
    assert.deepEqual(events.data[1]!.data.object, c);
  });

  test('create validation: frozen_time is required', async () => {
    const s = account();
    await rejects(s.testHelpers.testClocks.create({} as any), { status: 400, message: /frozen_time/, param: 'frozen_time', code: 'parameter_missing' });
  });

  test('advance: response is advancing with its target; then ready at the new time; events in order', async () => {
    const s = account();
    const c = await s.testHelpers.testClocks.create({ frozen_time: T0 });
    const target = T0 + 31 * DAY;
    const adv = await s.testHelpers.testClocks.advance(c.id, { frozen_time: target });
    assert.deepEqual(Object.keys(adv).sort(), KEYS);
    assert.equal(adv.status, 'advancing');
    assert.deepEqual(adv.status_details, { advancing: { target_frozen_time: target } });
    assert.equal(adv.frozen_time, T0);
    const ready = await s.testHelpers.testClocks.retrieve(c.id);
    assert.deepEqual(ready, { ...c, frozen_time: target });
    assert.equal(ready.status, 'ready');
    assert.deepEqual(ready.status_details, {});
    assert.deepEqual(await eventTypes(s), ['test_helpers.test_clock.created', 'test_helpers.test_clock.advancing', 'test_helpers.test_clock.ready']);
    const events = (await s.events.list()).data;
    assert.deepEqual(events[0]!.data.object, ready);
    assert.deepEqual(events[1]!.data.object, adv);
    // Advance again from the new time, by the most allowed: two years.
    const far = Date.UTC(2027, 6, 16, 15, 6, 40) / 1000;
    assert.equal(far, target + 730 * DAY);
    await s.testHelpers.testClocks.advance(c.id, { frozen_time: far });
    assert.equal((await s.testHelpers.testClocks.retrieve(c.id)).frozen_time, far);
  });

  test('advance errors: not later than the current time, unknown clock, deleted clock', async () => {
    const s = account();
    const c = await s.testHelpers.testClocks.create({ frozen_time: T0 });
    for (const frozen_time of [T0, T0 - 1]) {
      await rejects(s.testHelpers.testClocks.advance(c.id, { frozen_time }), { status: 400, message: /frozen_time must be after/, param: 'frozen_time' });
    }
    // With no subscriptions, at most two years ahead (T0 is 2025-06-15T15:06:40Z: two years is 730 days).
    assert.equal(T0 + 730 * DAY, Date.UTC(2027, 5, 15, 15, 6, 40) / 1000);
    await rejects(s.testHelpers.testClocks.advance(c.id, { frozen_time: T0 + 730 * DAY + 1 }), { status: 400, message: /cannot be more than two years/, param: 'frozen_time' });
    assert.equal(twoYearsAfter(Date.UTC(2024, 1, 29, 12) / 1000), Date.UTC(2026, 2, 1, 12) / 1000, '29 February two years on');
    assert.deepEqual(await s.testHelpers.testClocks.retrieve(c.id), c, 'a refused advance changes nothing');
    assert.deepEqual(await eventTypes(s), ['test_helpers.test_clock.created']);
    const missing = { status: 404, message: "No such test_clock: 'clock_nope'", param: 'id', code: 'resource_missing' };
    await rejects(s.testHelpers.testClocks.advance('clock_nope', { frozen_time: T0 + 1 }), missing);
    await rejects(s.testHelpers.testClocks.retrieve('clock_nope'), missing);
    await rejects(s.testHelpers.testClocks.del('clock_nope'), missing);
    // Another account's clock does not exist here.
    await rejects(account().testHelpers.testClocks.retrieve(c.id), { ...missing, message: `No such test_clock: '${c.id}'` });

    assert.deepEqual(await s.testHelpers.testClocks.del(c.id), { id: c.id, object: 'test_helpers.test_clock', deleted: true });
    const gone = { ...missing, message: `No such test_clock: '${c.id}'` };
    await rejects(s.testHelpers.testClocks.advance(c.id, { frozen_time: T0 + 1 }), gone);
    await rejects(s.testHelpers.testClocks.retrieve(c.id), gone);
    await rejects(s.testHelpers.testClocks.del(c.id), gone);
    assert.deepEqual((await s.testHelpers.testClocks.list()).data, []);
    await rejects(s.customers.create({ test_clock: c.id }), { status: 400, message: `No such test_clock: '${c.id}'`, param: 'test_clock', code: 'resource_missing' });
    assert.deepEqual(await eventTypes(s), ['test_helpers.test_clock.created', 'test_helpers.test_clock.deleted']);
  });

  test('customers in a clock: created at its frozen time; deleting the clock deletes them', async () => {
    const s = account();
    const c = await s.testHelpers.testClocks.create({ frozen_time: T0 - 100 * DAY });
    const other = await s.testHelpers.testClocks.create({ frozen_time: T0 - 5 * DAY });
    const a = await s.customers.create({ test_clock: c.id, email: 'a@example.com' });
    const b = await s.customers.create({ test_clock: c.id });
    const kept = await s.customers.create({ test_clock: other.id });
    const plain = await s.customers.create({});
    assert.equal(a.test_clock, c.id);
    assert.equal(a.created, T0 - 100 * DAY);
    assert.equal(kept.created, T0 - 5 * DAY);
    assert.equal(plain.created, T0);
    assert.deepEqual((await s.customers.list({ test_clock: c.id } as any)).data.map((x) => x.id).sort(), [a.id, b.id].sort());

    await s.testHelpers.testClocks.del(c.id);
    for (const cus of [a, b]) assert.deepEqual(await s.customers.retrieve(cus.id), { id: cus.id, object: 'customer', deleted: true });
    assert.equal((await s.customers.retrieve(kept.id) as Stripe.Customer).test_clock, other.id);
    assert.equal((await s.customers.retrieve(plain.id) as Stripe.Customer).deleted, undefined);
    assert.deepEqual((await s.customers.list({ test_clock: c.id } as any)).data, []);
    // Without test_clock the list leaves out every clock's customers (Stripe's documented behaviour).
    assert.deepEqual((await s.customers.list()).data.map((x) => x.id), [plain.id]);
    const events = (await s.events.list({ limit: 100 })).data;
    const deleted = events.filter((e) => e.type === 'customer.deleted');
    assert.deepEqual(deleted.map((e) => (e.data.object as Stripe.Customer).id).sort(), [a.id, b.id].sort());
    assert.equal((deleted[0]!.data.object as Stripe.Customer).test_clock, c.id);
    assert.equal(events[0]!.type, 'test_helpers.test_clock.deleted', 'the clock goes last, after its customers');
    assert.equal((events[0]!.data.object as Stripe.TestHelpers.TestClock).id, c.id);
  });

  test('customers.list names a clock to see its customers; email alone leaves them out; search finds them', async () => {
    const s = account();
    const c = await s.testHelpers.testClocks.create({ frozen_time: T0 - DAY });
    const inClock = await s.customers.create({ test_clock: c.id, email: 'same@example.com', name: 'Clocked' });
    const real = await s.customers.create({ email: 'same@example.com', name: 'Real' });
    const ids = async (q: Stripe.CustomerListParams = {}) => (await s.customers.list(q)).data.map((x) => x.id);
    assert.deepEqual(await ids(), [real.id]);
    assert.deepEqual(await ids({ email: 'same@example.com' }), [real.id]);
    assert.deepEqual(await ids({ email: 'same@example.com', test_clock: c.id }), [inClock.id]);
    assert.deepEqual(await ids({ email: 'other@example.com', test_clock: c.id }), []);
    assert.deepEqual(await ids({ test_clock: c.id }), [inClock.id]);
    // Pagination counts only what the list shows.
    const more = await s.customers.create({});
    const page = await s.customers.list({ limit: 1 });
    assert.deepEqual(page.data.map((x) => x.id), [more.id]);
    assert.equal(page.has_more, true);
    assert.deepEqual(await ids({ starting_after: more.id }), [real.id]);
    // Search has no test_clock filter, so it keeps finding a clock's customers (Pinstripe's choice).
    const found = await s.customers.search({ query: 'name:"Clocked"' });
    assert.deepEqual(found.data.map((x) => x.id), [inClock.id]);
  });

  test('a test clock holds at most three customers; a deleted one frees its place; concurrent creates cannot overshoot', async () => {
    const s = account();
    const c = await s.testHelpers.testClocks.create({ frozen_time: T0 });
    const made = [];
    for (let i = 0; i < 3; i++) made.push(await s.customers.create({ test_clock: c.id }));
    const full = { status: 400, message: `The test clock ${c.id} already has the maximum number of customers (3). Delete a customer of the clock or use another test clock.`, param: 'test_clock' };
    await rejects(s.customers.create({ test_clock: c.id }), full);
    await s.customers.del(made[0]!.id);
    await s.customers.create({ test_clock: c.id });
    await rejects(s.customers.create({ test_clock: c.id }), full);
    // Another clock is unaffected.
    const other = await s.testHelpers.testClocks.create({ frozen_time: T0 });
    const results = await Promise.allSettled(Array.from({ length: 5 }, () => s.customers.create({ test_clock: other.id })));
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 3);
    for (const r of results) if (r.status === 'rejected') assert.match(r.reason.message, /already has the maximum number of customers \(3\)/);
    assert.equal((await s.customers.list({ test_clock: other.id, limit: 10 })).data.length, 3);
  });
});

describe('scheduler', () => {
  test('an advance runs registered work in time order, exactly as often as it falls in the interval, inside the advance', async () => {
    const s = account();
    const c = await s.testHelpers.testClocks.create({ frozen_time: T0 });
    const ran: Array<{ kind: string; at: number; now: number; status: string }> = [];
    // Recurring work every 10 days from the clock's start (a renewal), and one-off items (a trial end).
    const last = new Map<string, number>();
    const oneOff = new Set([T0 + 15 * DAY, T0 + 20 * DAY, T0 + 45 * DAY]);
    const record = async (ctx: any, kind: string, item: DueItem) => {
      const row = await ctx.db.get(ctx.scope, c.id);
      ran.push({ kind, at: item.at, now: ctx.now(), status: row.data.status });
    };
    const offs = [
      registerTimeHandler('test.renew', {
        async due(_ctx, clockId, until) {
          if (clockId !== c.id) return [];
          const next = (last.get(clockId) ?? T0) + 10 * DAY;
          return next <= until ? [{ at: next, key: clockId }] : [];
        },
        async run(ctx, item, clockId) { await record(ctx, 'renew', item); last.set(clockId!, item.at); },
      }),
      registerTimeHandler('test.once', {
        async due(_ctx, clockId, until) {
          if (clockId !== c.id) return [];
          return [...oneOff].sort((x, y) => x - y).filter((at) => at <= until).map((at) => ({ at, key: String(at) }));
        },
        async run(ctx, item) { await record(ctx, 'once', item); oneOff.delete(item.at); },
      }),
    ];
    try {
      // Another clock of the same account sees none of this clock's work.
      const other = await s.testHelpers.testClocks.create({ frozen_time: T0 });
      await s.testHelpers.testClocks.advance(other.id, { frozen_time: T0 + 100 * DAY });
      assert.equal(ran.length, 0);

      await s.testHelpers.testClocks.advance(c.id, { frozen_time: T0 + 35 * DAY });
      assert.deepEqual(ran.map((r) => [r.kind, (r.at - T0) / DAY]), [['renew', 10], ['once', 15], ['renew', 20], ['once', 20], ['renew', 30]]);
      assert.ok(ran.every((r) => r.now === r.at), 'ctx.now() is the moment the work fell due');
      assert.ok(ran.every((r) => r.status === 'advancing'), 'work runs inside the advance, before the clock is ready');
      // The interval is (old, new]: work exactly at the new frozen_time runs now, never again.
      ran.length = 0;
      await s.testHelpers.testClocks.advance(c.id, { frozen_time: T0 + 40 * DAY });
      assert.deepEqual(ran.map((r) => [r.kind, (r.at - T0) / DAY]), [['renew', 40]]);
      ran.length = 0;
      await s.testHelpers.testClocks.advance(c.id, { frozen_time: T0 + 40 * DAY + 1 });
      assert.equal(ran.length, 0);
      // A long advance: every occurrence (a year: 36 renewals from day 50 to day 400) and the one-off.
      await s.testHelpers.testClocks.advance(c.id, { frozen_time: T0 + 405 * DAY });
      assert.equal(ran.filter((r) => r.kind === 'renew').length, 36);
      assert.deepEqual(ran.filter((r) => r.kind === 'once').map((r) => (r.at - T0) / DAY), [45]);
      assert.deepEqual(ran.map((r) => r.at), [...ran.map((r) => r.at)].sort((x, y) => x - y));
    } finally {
      for (const off of offs) off();
    }
  });

  test('runDue: work still due after running stops with an error instead of looping; the bound on items', async () => {
    // No timers: a transaction whose timer table is empty.
    const ctx = { scope: { account: 'acct_none', livemode: false }, tx: { dueTimers: async () => [], deleteTimer: async () => false } } as any;
    const off = registerTimeHandler('test.stuck', {
      async due(_ctx, clockId) { return clockId === 'clock_stuck' ? [{ at: 5, key: 'x' }] : []; },
      async run() {},
    });
    try {
      await assert.rejects(runDue(ctx, 10, { testClock: 'clock_stuck' }), /test\.stuck x at 5 is still due after running/);
      assert.deepEqual(await runDue(ctx, 4, { testClock: 'clock_stuck' }), { ran: [] }, 'not due before its time');
    } finally { off(); }
    let n = 0;
    const off2 = registerTimeHandler('test.many', {
      async due(_ctx, clockId) { return clockId === 'clock_many' ? [{ at: n + 1, key: String(n) }] : []; },
      async run() { n++; },
    });
    try {
      await assert.rejects(runDue(ctx, 1_000, { testClock: 'clock_many', maxItems: 50 }), /more than 50 items due/);
      n = 0;
      const { ran } = await runDue(ctx, 20, { testClock: 'clock_many' });
      assert.deepEqual(ran.map((r) => r.at), Array.from({ length: 20 }, (_, i) => i + 1));
      assert.deepEqual(await runDue(ctx, 20, { testClock: null }), { ran: [] }, 'real time sees no clock work');
    } finally { off2(); }
  });
});
