// Usage aggregation for Billing Meters — the one place that turns meter events into a number.
//
// Storage (written by src/resources/billing-meters.ts): every meter event is one row of type
// `billing.meter_event` in the generic objects table, with
//   - id `mev_<identifier>`: the identifier is the primary key, so a duplicate is one primary-key
//     lookup and two concurrent writers of one identifier cannot both commit;
//   - row `created` = the event's `timestamp` (the object's own `created`, the time it was
//     received, stays in its JSON), so a time range is a range of the index;
//   - one index entry `usage` = `<customer>|<event_name>`, the customer resolved through the
//     meter's customer_mapping when the event was written.
// Aggregating a (meter, customer, [start, end)) window is therefore one index range, which the
// store aggregates in SQL (ReadOps.aggregate: count, sum and last of payload[value]) without
// reading the rows out; event summaries, which fold events into windows, scan the same range. A canceled event (meter event adjustment)
// is a tombstone: scans leave it out, and its identifier stays taken.
import type { ReadContext, WriteContext } from '../../api/context.js';
import type { StoredObject } from '../../store/store.js';

/** Told of every meter event recorded (in its transaction; `now` is its customer's time): subscriptions' billing thresholds listen. */
type UsageListener = (ctx: WriteContext, usage: { customer: string; meter: string; timestamp: number; now: number }) => Promise<void>;
const usageListeners: UsageListener[] = [];
export function onUsageRecorded(fn: UsageListener): void { usageListeners.push(fn); }
export async function usageRecorded(ctx: WriteContext, usage: { customer: string; meter: string; timestamp: number; now: number }): Promise<void> {
  for (const fn of usageListeners) await fn(ctx, usage);
}

export const METER_OBJECT = 'billing.meter';
export const METER_EVENT_OBJECT = 'billing.meter_event';
/** Index field of meter events: `<customer>|<event_name>`. */
export const USAGE_INDEX = 'usage';
export const usageKey = (customer: string, eventName: string) => `${customer}|${eventName}`;
export const meterEventId = (identifier: string) => `mev_${identifier}`;

export type Formula = 'sum' | 'count' | 'last';

/** The numeric value an event contributes (sum / last); count ignores it. */
export function eventValue(event: Record<string, any>, meter: Record<string, any>): number {
  const v = Number(event.payload?.[meter.value_settings?.event_payload_key ?? 'value']);
  return Number.isFinite(v) ? v : 0;
}

const PAGE = 1000;

/** Every live (not canceled) event of the meter's event name for the customer with start <= timestamp < end, oldest first. */
export async function* meterEvents(ctx: ReadContext, meter: Record<string, any>, customer: string, start: number, end: number): AsyncGenerator<StoredObject> {
  let after: { created: number; seq: number } | undefined;
  for (;;) {
    const rows = await ctx.db.scan(ctx.scope, {
      type: METER_EVENT_OBJECT, index: { field: USAGE_INDEX, value: usageKey(customer, meter.event_name) },
      created: { gte: start, lt: end }, direction: 'newer', limit: PAGE, ...(after ? { after } : {}),
    });
    for (const r of rows) yield r;
    if (rows.length < PAGE) return;
    const last = rows[rows.length - 1]!;
    after = { created: last.created, seq: last.seq };
  }
}

/** Float sums of decimal values: binary noise (0.1 + 0.2) rounded away at 12 places. */
const roundSum = (x: number) => Math.round(x * 1e12) / 1e12;

/** Folds events (oldest first) with the meter's formula. `last` is the value of the latest event (0 when none). */
export class Aggregate {
  private sum = 0;
  private count = 0;
  private last = 0;
  constructor(readonly formula: Formula) {}
  add(value: number): void {
    this.count++;
    this.sum += value;
    this.last = value;
  }
  get value(): number {
    if (this.formula === 'count') return this.count;
    if (this.formula === 'last') return this.last;
    return roundSum(this.sum);
  }
}

/**
 * The usage a meter recorded for one customer in [start, end) (Unix seconds, start inclusive,
 * end exclusive, as Stripe's event summaries count): the meter's default_aggregation formula
 * (sum of values, count of events, or the last value) over the events whose `timestamp` falls
 * in the window, canceled events left out. Events are matched by the meter's `event_name` and
 * the customer its customer_mapping named when they were recorded. An unknown meter throws.
 *
 * This is what the subscriptions engine calls when a period of a metered price
 * (`recurring.meter`, `usage_type: metered`) closes: quantity = meteredUsage(ctx, { meter:
 * price.recurring.meter, customer, start: period.start, end: period.end }).
 */
export async function meteredUsage(ctx: ReadContext, q: { meter: string; customer: string; start: number; end: number }): Promise<number> {
  const row = await ctx.db.get(ctx.scope, q.meter);
  if (!row || row.type !== METER_OBJECT || row.deleted) throw new Error(`meteredUsage: no such meter ${q.meter}`);
  const meter = row.data;
  const formula: Formula = meter.default_aggregation.formula;
  const agg = new Aggregate(formula);
  if (q.end <= q.start) return agg.value;
  if (ctx.db.aggregate) {
    // In the database: one indexed aggregate (and one row for `last`), no rows read out.
    const r = await ctx.db.aggregate(ctx.scope, {
      type: METER_EVENT_OBJECT, index: { field: USAGE_INDEX, value: usageKey(q.customer, meter.event_name) },
      created: { gte: q.start, lt: q.end }, path: ['payload', meter.value_settings?.event_payload_key ?? 'value'],
    });
    return formula === 'count' ? r.count : formula === 'last' ? r.last ?? 0 : roundSum(r.sum);
  }
  for await (const e of meterEvents(ctx, meter, q.customer, q.start, q.end)) agg.add(eventValue(e.data, meter));
  return agg.value;
}
