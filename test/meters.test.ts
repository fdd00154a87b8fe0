// Billing Meters through the official SDK: meters, meter events, adjustments, event summaries,
// and the usage aggregation the subscriptions engine bills metered prices from.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Stripe from 'stripe';
import { FrozenClock } from '../src/api/clock.js';
import { meteredUsage } from '../src/engine/billing/usage.js';
import { freshKey, startTestServer, type TestServer } from './helpers/server.js';
import { asAccount } from './helpers/context.js';
import { rejects } from './helpers/errors.js';

let t: TestServer;
const HOUR = 3600;
const DAY = 86_400;
const T0 = 1_760_000_400; // an hour boundary
const clock = new FrozenClock(T0);
before(async () => { t = await startTestServer({ clock }); });
after(() => t.close());

interface Account { key: string; s: Stripe; customer: string }
async function account(): Promise<Account> {
  clock.set(T0);
  const key = freshKey();
  const s = t.stripe(key);
  return { key, s, customer: (await s.customers.create({ name: 'Metered' })).id };
}

const METER_KEYS = ['created', 'customer_mapping', 'default_aggregation', 'display_name', 'event_name', 'event_time_window', 'id', 'livemode',
  'object', 'status', 'status_transitions', 'updated', 'value_settings'];

function meter(s: Stripe, formula: 'sum' | 'count' | 'last' = 'sum', event_name = 'api_requests', extra: Partial<Stripe.Billing.MeterCreateParams> = {}) {
  return s.billing.meters.create({ display_name: 'API requests', event_name, default_aggregation: { formula }, ...extra });
}

function usage(a: Account, m: string, start: number, end: number, customer = a.customer) {
  return asAccount(t, a.key, (ctx) => meteredUsage(ctx, { meter: m, customer, start, end }));
}

describe('billing meters', () => {
  test('create: Stripe\'s shape with defaults; retrieve; update display_name moves `updated`', async () => {
    const a = await account();
    const m = await meter(a.s);
    assert.deepEqual(Object.keys(m).sort(), METER_KEYS);
    assert.match(m.id, /^mtr_/);
    assert.equal(m.object, 'billing.meter');
    assert.equal(m.created, T0);
    assert.deepEqual(m.customer_mapping, { event_payload_key: 'stripe_customer_id', type: 'by_id' });
    assert.deepEqual(m.default_aggregation, { formula: 'sum' });
    assert.equal(m.event_time_window, null);
    assert.equal(m.status, 'active');
    assert.deepEqual(m.status_transitions, { deactivated_at: null });
    assert.equal(m.updated, T0);
    assert.deepEqual(m.value_settings, { event_payload_key: 'value' });
    assert.deepEqual(await a.s.billing.meters.retrieve(m.id), m);

    const custom = await meter(a.s, 'last', 'gb_stored', {
      customer_mapping: { type: 'by_id', event_payload_key: 'account' }, value_settings: { event_payload_key: 'gb' }, event_time_window: 'hour',
    });
    assert.deepEqual(custom.customer_mapping, { event_payload_key: 'account', type: 'by_id' });
    assert.deepEqual(custom.value_settings, { event_payload_key: 'gb' });
    assert.equal(custom.event_time_window, 'hour');

    clock.set(T0 + 60);
    const renamed = await a.s.billing.meters.update(m.id, { display_name: 'Calls' });
    assert.equal(renamed.display_name, 'Calls');
    assert.equal(renamed.updated, T0 + 60);
    assert.equal(renamed.created, T0);
  });

  test('create validation: required params, lengths, one active meter per event name, distinct payload keys', async () => {
    const a = await account();
    await rejects(a.s.billing.meters.create({ display_name: 'x', default_aggregation: { formula: 'sum' } } as any),
      { status: 400, message: 'Missing required param: event_name.', param: 'event_name', code: 'parameter_missing' });
    await rejects(a.s.billing.meters.create({ display_name: 'x', event_name: 'e' } as any),
      { status: 400, message: 'Missing required param: default_aggregation.', param: 'default_aggregation', code: 'parameter_missing' });
    await rejects(a.s.billing.meters.create({ display_name: 'x', event_name: 'e', default_aggregation: { formula: 'max' } } as any),
      { status: 400, message: /Invalid default_aggregation\[formula\]/, param: 'default_aggregation[formula]', code: undefined });
    await rejects(meter(a.s, 'sum', 'e'.repeat(101)),
      { status: 400, message: /must be at most 100 characters/, param: 'event_name', code: 'parameter_invalid_string' });
    await rejects(meter(a.s, 'sum', 'same', { customer_mapping: { type: 'by_id', event_payload_key: 'k' }, value_settings: { event_payload_key: 'k' } }),
      { status: 400, message: 'The customer mapping and value settings cannot use the same event payload key.', param: 'value_settings[event_payload_key]' });
    const first = await meter(a.s, 'sum', 'dup');
    await rejects(meter(a.s, 'count', 'dup'), { status: 400, message: 'An active meter with the event name `dup` already exists.', param: 'event_name' });
    // Once the first is inactive the name is free; the first cannot come back while the second is active.
    await a.s.billing.meters.deactivate(first.id);
    const second = await meter(a.s, 'count', 'dup');
    await rejects(a.s.billing.meters.reactivate(first.id), { status: 400, message: 'An active meter with the event name `dup` already exists.', param: 'event_name' });
    assert.equal(second.status, 'active');
    // "" cannot unset what a meter needs (raw HTTP: the SDK sends what it is given).
    const empty = (param: string) => ({ status: 400, message: `You passed an empty string for '${param}'. We assume empty values are an attempt to unset a parameter; however '${param}' cannot be unset. You should remove '${param}' from your request or supply a non-empty value.`, param, code: 'parameter_invalid_empty' });
    await rejects(a.s.billing.meters.update(second.id, { display_name: '' }), empty('display_name'));
    await rejects(a.s.billing.meterEventAdjustments.create({ event_name: 'dup', type: 'cancel', cancel: { identifier: '' } }), empty('cancel[identifier]'));
    await rejects(a.s.billing.meterEvents.create({ event_name: 'dup', payload: { stripe_customer_id: '' } }),
      { status: 400, message: 'The payload must have a reference to the customer.', param: 'payload[stripe_customer_id]' });
  });

  test('deactivate and reactivate: status, deactivated_at, updated; refused when already in that state; 404s', async () => {
    const a = await account();
    const m = await meter(a.s);
    clock.set(T0 + 120);
    const off = await a.s.billing.meters.deactivate(m.id);
    assert.equal(off.status, 'inactive');
    assert.deepEqual(off.status_transitions, { deactivated_at: T0 + 120 });
    assert.equal(off.updated, T0 + 120);
    await rejects(a.s.billing.meters.deactivate(m.id), { status: 400, message: `The meter ${m.id} is already inactive.` });
    clock.set(T0 + 180);
    const on = await a.s.billing.meters.reactivate(m.id);
    assert.equal(on.status, 'active');
    assert.deepEqual(on.status_transitions, { deactivated_at: null });
    assert.equal(on.updated, T0 + 180);
    await rejects(a.s.billing.meters.reactivate(m.id), { status: 400, message: `The meter ${m.id} is already active.` });
    await a.s.billing.meters.update(m.id, { display_name: 'Renamed' });
    // Each change is its event, oldest first; a refused one writes none.
    const evs = (await a.s.events.list({ type: 'billing.meter.*', limit: 10 })).data.reverse();
    assert.deepEqual(evs.map((e) => e.type), ['billing.meter.created', 'billing.meter.deactivated', 'billing.meter.reactivated', 'billing.meter.updated']);
    assert.deepEqual(evs[1]!.data.previous_attributes, { status: 'active', status_transitions: { deactivated_at: null }, updated: T0 });
    assert.equal((evs[3]!.data.object as any).display_name, 'Renamed');
    await rejects(a.s.billing.meters.retrieve('mtr_missing'), { status: 404, message: "No such meter: 'mtr_missing'", param: 'id', code: 'resource_missing' });
    await rejects(a.s.billing.meters.deactivate('mtr_missing'), { status: 404, message: "No such meter: 'mtr_missing'", param: 'id', code: 'resource_missing' });
  });

  test('list: newest first, paginated, filtered by status', async () => {
    const a = await account();
    const m1 = await meter(a.s, 'sum', 'a');
    const m2 = await meter(a.s, 'sum', 'b');
    const m3 = await meter(a.s, 'sum', 'c');
    await a.s.billing.meters.deactivate(m2.id);
    const all = await a.s.billing.meters.list();
    assert.deepEqual(all.data.map((m) => m.id), [m3.id, m2.id, m1.id]);
    assert.equal(all.url, '/v1/billing/meters');
    const page = await a.s.billing.meters.list({ limit: 1, starting_after: m3.id });
    assert.deepEqual(page.data.map((m) => m.id), [m2.id]);
    assert.equal(page.has_more, true);
    assert.deepEqual((await a.s.billing.meters.list({ status: 'active' })).data.map((m) => m.id), [m3.id, m1.id]);
    assert.deepEqual((await a.s.billing.meters.list({ status: 'inactive' })).data.map((m) => m.id), [m2.id]);
  });
});

describe('meter events', () => {
  test('create: Stripe\'s shape; timestamp defaults to now; an identifier is generated; duplicates refused', async () => {
    const a = await account();
    await meter(a.s);
    const e = await a.s.billing.meterEvents.create({ event_name: 'api_requests', payload: { stripe_customer_id: a.customer, value: '25' }, identifier: 'req-1' });
    assert.deepEqual(e, {
      object: 'billing.meter_event', created: T0, event_name: 'api_requests', identifier: 'req-1', livemode: false,
      payload: { stripe_customer_id: a.customer, value: '25' }, timestamp: T0,
    } as any);
    const generated = await a.s.billing.meterEvents.create({ event_name: 'api_requests', payload: { stripe_customer_id: a.customer, value: '1' }, timestamp: T0 - DAY });
    assert.match(generated.identifier, /^[A-Za-z0-9]{24}$/);
    assert.equal(generated.timestamp, T0 - DAY);
    await rejects(a.s.billing.meterEvents.create({ event_name: 'api_requests', payload: { stripe_customer_id: a.customer, value: '3' }, identifier: 'req-1' }),
      { status: 400, message: 'A meter event with a duplicate identifier has already been submitted.', param: 'identifier' });
    assert.equal(await usage(a, (await a.s.billing.meters.list()).data[0]!.id, T0 - 2 * DAY, T0 + 60), 26);
  });

  test('refused: no meter, inactive meter, no customer reference, unknown customer, missing or invalid value, timestamps out of range', async () => {
    const a = await account();
    const ev = (payload: Record<string, string>, extra: Record<string, unknown> = {}, event_name = 'calls') =>
      a.s.billing.meterEvents.create({ event_name, payload, ...extra } as any);
    await rejects(ev({ stripe_customer_id: a.customer, value: '1' }), { status: 400, message: 'A meter must exist to submit events.', param: 'event_name' });
    const m = await meter(a.s, 'sum', 'calls');
    await rejects(ev({ value: '1' }), { status: 400, message: 'The payload must have a reference to the customer.', param: 'payload[stripe_customer_id]' });
    await rejects(ev({ stripe_customer_id: 'cus_nope', value: '1' }), { status: 400, message: "No such customer: 'cus_nope'", param: 'payload[stripe_customer_id]', code: 'resource_missing' });
    await rejects(ev({ stripe_customer_id: a.customer }), { status: 400, message: 'The payload must have a value.', param: 'payload[value]' });
    for (const bad of ['abc', '-3', '1e3']) {
      await rejects(ev({ stripe_customer_id: a.customer, value: bad }), { status: 400, message: 'The value must be a positive integer.', param: 'payload[value]' });
    }
    // The past 35 calendar days up to 5 minutes ahead, both ends included.
    assert.equal((await ev({ stripe_customer_id: a.customer, value: '1' }, { timestamp: T0 - 35 * DAY })).timestamp, T0 - 35 * DAY);
    assert.equal((await ev({ stripe_customer_id: a.customer, value: '1' }, { timestamp: T0 + 300 })).timestamp, T0 + 300);
    await rejects(ev({ stripe_customer_id: a.customer, value: '1' }, { timestamp: T0 - 35 * DAY - 1 }),
      { status: 400, message: `The timestamp ${T0 - 35 * DAY - 1} is too far in the past: meter events must be within the past 35 calendar days.`, param: 'timestamp' });
    await rejects(ev({ stripe_customer_id: a.customer, value: '1' }, { timestamp: T0 + 301 }),
      { status: 400, message: `The timestamp ${T0 + 301} is too far in the future: meter events may be at most 5 minutes in the future.`, param: 'timestamp' });
    await rejects(a.s.billing.meterEvents.create({ event_name: 'calls' } as any),
      { status: 400, message: 'Missing required param: payload.', param: 'payload', code: 'parameter_missing' });
    await a.s.billing.meters.deactivate(m.id);
    await rejects(ev({ stripe_customer_id: a.customer, value: '1' }), { status: 400, message: 'The meter must be Active to submit events.', param: 'event_name' });
    // count meters need no value.
    await meter(a.s, 'count', 'logins');
    assert.equal((await ev({ stripe_customer_id: a.customer }, {}, 'logins')).event_name, 'logins');
  });

  test('custom payload keys map the customer and the value', async () => {
    const a = await account();
    const m = await meter(a.s, 'sum', 'storage', { customer_mapping: { type: 'by_id', event_payload_key: 'acct' }, value_settings: { event_payload_key: 'gb' } });
    await a.s.billing.meterEvents.create({ event_name: 'storage', payload: { acct: a.customer, gb: '2.5' } });
    await a.s.billing.meterEvents.create({ event_name: 'storage', payload: { acct: a.customer, gb: '0.25', value: '100' } });
    await rejects(a.s.billing.meterEvents.create({ event_name: 'storage', payload: { stripe_customer_id: a.customer, gb: '1' } }),
      { status: 400, message: 'The payload must have a reference to the customer.', param: 'payload[acct]' });
    assert.equal(await usage(a, m.id, T0, T0 + 1), 2.75);
  });

  test('two concurrent events with one identifier: exactly one is recorded', async () => {
    const a = await account();
    const m = await meter(a.s);
    const results = await Promise.allSettled([1, 2, 3, 4].map((v) =>
      a.s.billing.meterEvents.create({ event_name: 'api_requests', payload: { stripe_customer_id: a.customer, value: String(v) }, identifier: 'same' })));
    const ok = results.filter((r) => r.status === 'fulfilled');
    assert.equal(ok.length, 1);
    for (const r of results) {
      if (r.status === 'rejected') assert.equal(r.reason.message, 'A meter event with a duplicate identifier has already been submitted.');
    }
    assert.equal(await usage(a, m.id, T0, T0 + 1), Number((ok[0] as PromiseFulfilledResult<Stripe.Billing.MeterEvent>).value.payload.value));
  });
});

describe('usage aggregation', () => {
  async function record(a: Account, name: string, points: Array<[number, string, string?]>, customer = a.customer) {
    for (const [ts, value, identifier] of points) {
      await a.s.billing.meterEvents.create({ event_name: name, payload: { stripe_customer_id: customer, value }, timestamp: ts, ...(identifier ? { identifier } : {}) });
    }
  }

  test('sum, count and last over [start, end): start included, end excluded, other customers and meters apart', async () => {
    const a = await account();
    const other = (await a.s.customers.create()).id;
    const sum = await meter(a.s, 'sum', 'sum_ev');
    const count = await meter(a.s, 'count', 'count_ev');
    const last = await meter(a.s, 'last', 'last_ev');
    const pts: Array<[number, string]> = [[T0 - 3 * HOUR, '5'], [T0 - 2 * HOUR, '7'], [T0 - HOUR, '11'], [T0, '13']];
    for (const name of ['sum_ev', 'count_ev', 'last_ev']) await record(a, name, pts);
    await record(a, 'sum_ev', [[T0 - 2 * HOUR, '1000']], other);
    const [s, e] = [T0 - 3 * HOUR, T0];
    assert.equal(await usage(a, sum.id, s, e), 23);
    assert.equal(await usage(a, count.id, s, e), 3);
    assert.equal(await usage(a, last.id, s, e), 11);
    assert.equal(await usage(a, sum.id, s, e + 1), 36);
    assert.equal(await usage(a, last.id, s, e + 1), 13);
    assert.equal(await usage(a, sum.id, s + 1, e), 18);
    assert.equal(await usage(a, sum.id, s, e, other), 1000);
    assert.equal(await usage(a, sum.id, T0 + HOUR, T0 + 2 * HOUR), 0);
    assert.equal(await usage(a, last.id, T0 + HOUR, T0 + 2 * HOUR), 0);
    assert.equal(await usage(a, count.id, e, s), 0);
    await assert.rejects(usage(a, 'mtr_nope', s, e), /no such meter/);
    // The store's SQL aggregate and the row-by-row fold (for stores without one) agree.
    for (const m of [sum, count, last]) {
      for (const [from, to] of [[s, e], [s, e + 1], [s + 1, e], [T0 + HOUR, T0 + 2 * HOUR]] as const) {
        const [inDb, folded] = await asAccount(t, a.key, async (ctx) => {
          const withoutAggregate = { get: ctx.db.get.bind(ctx.db), scan: ctx.db.scan.bind(ctx.db), count: ctx.db.count.bind(ctx.db) };
          return [await meteredUsage(ctx, { meter: m.id, customer: a.customer, start: from, end: to }),
            await meteredUsage({ ...ctx, db: withoutAggregate as any }, { meter: m.id, customer: a.customer, start: from, end: to })];
        });
        assert.equal(inDb, folded, `${m.default_aggregation.formula} [${from - T0}, ${to - T0})`);
      }
    }
  });

  test('last: the latest by timestamp, not by arrival', async () => {
    const a = await account();
    const m = await meter(a.s, 'last', 'seats');
    await record(a, 'seats', [[T0 - HOUR, '9'], [T0 - 3 * HOUR, '4']]);
    assert.equal(await usage(a, m.id, T0 - DAY, T0), 9);
  });

  test('adjustments cancel an event by identifier; refused for unknown, already canceled or too old events', async () => {
    const a = await account();
    const m = await meter(a.s, 'sum', 'calls');
    await record(a, 'calls', [[T0 - HOUR, '10', 'a'], [T0 - HOUR, '20', 'b'], [T0 - 2 * DAY, '40', 'old']]);
    clock.set(T0 - DAY); // 'old' was received now, two days before T0 in its timestamp
    await record(a, 'calls', [[T0 - 2 * DAY, '80', 'old-received-earlier']]);
    clock.set(T0);
    const adj = await a.s.billing.meterEventAdjustments.create({ event_name: 'calls', type: 'cancel', cancel: { identifier: 'b' } });
    assert.deepEqual(adj, { object: 'billing.meter_event_adjustment', cancel: { identifier: 'b' }, event_name: 'calls', livemode: false, status: 'complete', type: 'cancel' } as any);
    assert.equal(await usage(a, m.id, T0 - HOUR, T0), 10);
    await rejects(a.s.billing.meterEventAdjustments.create({ event_name: 'calls', type: 'cancel', cancel: { identifier: 'b' } }),
      { status: 400, message: "The meter event with the identifier 'b' has already been canceled.", param: 'cancel[identifier]' });
    await rejects(a.s.billing.meterEventAdjustments.create({ event_name: 'calls', type: 'cancel', cancel: { identifier: 'zzz' } }),
      { status: 400, message: "No meter event with the identifier 'zzz' and the event name 'calls' was found.", param: 'cancel[identifier]', code: 'resource_missing' });
    await rejects(a.s.billing.meterEventAdjustments.create({ event_name: 'other', type: 'cancel', cancel: { identifier: 'a' } }),
      { status: 400, message: "No meter event with the identifier 'a' and the event name 'other' was found.", param: 'cancel[identifier]', code: 'resource_missing' });
    await rejects(a.s.billing.meterEventAdjustments.create({ event_name: 'calls', type: 'cancel' }),
      { status: 400, message: 'Missing required param: cancel[identifier].', param: 'cancel[identifier]', code: 'parameter_missing' });
    clock.set(T0 + 1);
    await rejects(a.s.billing.meterEventAdjustments.create({ event_name: 'calls', type: 'cancel', cancel: { identifier: 'old-received-earlier' } }),
      { status: 400, message: "The meter event with the identifier 'old-received-earlier' can no longer be canceled: meter events can be canceled within 24 hours of being received.", param: 'cancel[identifier]' });
    // Received at T0, so still cancelable a day later, whatever its timestamp.
    clock.set(T0 + DAY);
    await a.s.billing.meterEventAdjustments.create({ event_name: 'calls', type: 'cancel', cancel: { identifier: 'old' } });
    assert.equal(await usage(a, m.id, T0 - 3 * DAY, T0), 90);
    // A canceled identifier stays taken.
    clock.set(T0);
    await rejects(a.s.billing.meterEvents.create({ event_name: 'calls', payload: { stripe_customer_id: a.customer, value: '1' }, identifier: 'b' }),
      { status: 400, message: 'A meter event with a duplicate identifier has already been submitted.', param: 'identifier' });
  });

  test('test-clock customers: default timestamp and allowed range follow the clock', async () => {
    const a = await account();
    const frozen = T0 - 100 * DAY;
    const c = await a.s.testHelpers.testClocks.create({ frozen_time: frozen });
    const cus = (await a.s.customers.create({ test_clock: c.id })).id;
    const m = await meter(a.s);
    const e = await a.s.billing.meterEvents.create({ event_name: 'api_requests', payload: { stripe_customer_id: cus, value: '4' } });
    assert.equal(e.timestamp, frozen);
    assert.equal(e.created, frozen);
    await rejects(a.s.billing.meterEvents.create({ event_name: 'api_requests', payload: { stripe_customer_id: cus, value: '4' }, timestamp: T0 }),
      { status: 400, message: `The timestamp ${T0} is too far in the future: meter events may be at most 5 minutes in the future.`, param: 'timestamp' });
    assert.equal(await usage(a, m.id, frozen, frozen + 1, cus), 4);
  });
});

describe('event summaries', () => {
  test('one summary for the range; hourly and daily windows newest first, empty windows left out; pagination', async () => {
    const a = await account();
    const m = await meter(a.s, 'sum', 'calls');
    const start = T0 - 4 * HOUR;
    for (const [ts, v] of [[start, '1'], [start + 10, '2'], [start + HOUR + 5, '4'], [start + 3 * HOUR + 59, '8'], [T0, '16']] as const) {
      await a.s.billing.meterEvents.create({ event_name: 'calls', payload: { stripe_customer_id: a.customer, value: v }, timestamp: ts });
    }
    const one = await a.s.billing.meters.listEventSummaries(m.id, { customer: a.customer, start_time: start, end_time: T0 });
    assert.equal(one.object, 'list');
    assert.equal(one.url, `/v1/billing/meters/${m.id}/event_summaries`);
    assert.equal(one.has_more, false);
    assert.equal(one.data.length, 1);
    const s0 = one.data[0]!;
    assert.deepEqual(Object.keys(s0).sort(), ['aggregated_value', 'end_time', 'id', 'livemode', 'meter', 'object', 'start_time']);
    assert.match(s0.id, /^mtrusg_test_/);
    assert.deepEqual({ ...s0, id: undefined }, { id: undefined, object: 'billing.meter_event_summary', aggregated_value: 15, end_time: T0, livemode: false, meter: m.id, start_time: start });

    const hourly = await a.s.billing.meters.listEventSummaries(m.id, { customer: a.customer, start_time: start, end_time: T0, value_grouping_window: 'hour' });
    assert.deepEqual(hourly.data.map((s) => [s.start_time - start, s.end_time - start, s.aggregated_value]),
      [[3 * HOUR, 4 * HOUR, 8], [HOUR, 2 * HOUR, 4], [0, HOUR, 3]]);
    const page1 = await a.s.billing.meters.listEventSummaries(m.id, { customer: a.customer, start_time: start, end_time: T0, value_grouping_window: 'hour', limit: 2 });
    assert.equal(page1.has_more, true);
    const page2 = await a.s.billing.meters.listEventSummaries(m.id, { customer: a.customer, start_time: start, end_time: T0, value_grouping_window: 'hour', limit: 2, starting_after: page1.data[1]!.id });
    assert.deepEqual(page2.data.map((s) => s.aggregated_value), [3]);
    assert.equal(page2.has_more, false);
    const back = await a.s.billing.meters.listEventSummaries(m.id, { customer: a.customer, start_time: start, end_time: T0, value_grouping_window: 'hour', ending_before: page2.data[0]!.id, limit: 1 });
    assert.deepEqual(back.data.map((s) => s.aggregated_value), [4]);
    assert.equal(back.has_more, true);
    const all: number[] = [];
    for await (const s of a.s.billing.meters.listEventSummaries(m.id, { customer: a.customer, start_time: start, end_time: T0, value_grouping_window: 'hour', limit: 1 })) all.push(s.aggregated_value);
    assert.deepEqual(all, [8, 4, 3]);

    const dayStart = T0 - (T0 % DAY);
    const daily = await a.s.billing.meters.listEventSummaries(m.id, { customer: a.customer, start_time: dayStart - DAY, end_time: dayStart + DAY, value_grouping_window: 'day' });
    assert.deepEqual(daily.data.map((s) => [s.start_time, s.aggregated_value]), [[dayStart, 31]]);
    const none = await a.s.billing.meters.listEventSummaries(m.id, { customer: 'cus_other', start_time: start, end_time: T0 });
    assert.deepEqual(none.data.map((s) => s.aggregated_value), [0]);
  });

  test('refused: misaligned or inverted times, missing params, unknown meter', async () => {
    const a = await account();
    const m = await meter(a.s);
    const list = (q: Record<string, unknown>, id = m.id) => a.s.billing.meters.listEventSummaries(id, { customer: a.customer, start_time: T0 - HOUR, end_time: T0, ...q } as any);
    await rejects(list({ start_time: T0 - HOUR + 1 }), { status: 400, message: 'start_time must be aligned with minute boundaries.', param: 'start_time' });
    await rejects(list({ end_time: T0 - 30 }), { status: 400, message: 'end_time must be aligned with minute boundaries.', param: 'end_time' });
    await rejects(list({ start_time: T0 - 60, value_grouping_window: 'hour' }), { status: 400, message: 'start_time must be aligned with hour boundaries.', param: 'start_time' });
    await rejects(list({ value_grouping_window: 'day' }), { status: 400, message: 'start_time must be aligned with day (00:00 UTC) boundaries.', param: 'start_time' });
    await rejects(list({ start_time: T0, end_time: T0 - HOUR }), { status: 400, message: 'end_time must be after start_time.', param: 'end_time' });
    await rejects(a.s.billing.meters.listEventSummaries(m.id, { start_time: T0 - HOUR, end_time: T0 } as any),
      { status: 400, message: 'Missing required param: customer.', param: 'customer', code: 'parameter_missing' });
    await rejects(list({}, 'mtr_nope'), { status: 404, message: "No such meter: 'mtr_nope'", param: 'id', code: 'resource_missing' });
  });
});

describe('metered prices', () => {
  test('a metered price backed by a meter', async () => {
    const a = await account();
    const m = await meter(a.s);
    const product = (await a.s.products.create({ name: 'API' })).id;
    const p = await a.s.prices.create({ product, currency: 'usd', unit_amount: 2, recurring: { interval: 'month', usage_type: 'metered', meter: m.id } });
    assert.deepEqual(p.recurring, { interval: 'month', interval_count: 1, meter: m.id, trial_period_days: null, usage_type: 'metered' });
    await rejects(a.s.prices.create({ product, currency: 'usd', unit_amount: 2, recurring: { interval: 'month', usage_type: 'metered' } }),
      { status: 400, message: 'Starting with Stripe version `2025-03-31.basil`, metered prices must be backed by meters.' });
  });
});
