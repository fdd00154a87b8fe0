// Billing Meters — https://docs.stripe.com/api/billing/meter
// Meters (create, retrieve, update display_name, list by status, deactivate, reactivate), meter
// events (POST /v1/billing/meter_events), meter event adjustments (cancel by identifier) and
// event summaries (GET /v1/billing/meters/{id}/event_summaries). How events are stored and
// aggregated is in src/engine/billing/usage.ts (meteredUsage is what subscriptions bill from).
//
// Stripe validates meter events partly at once and partly asynchronously (errors then reach
// `v1.billing.meter.error_report_triggered`). Pinstripe has no asynchronous error reports, so
// it refuses at once what Stripe would report later, with the messages Stripe documents for its
// synchronously validated meter events (v2 create): "A meter must exist to submit events.",
// "The meter must be Active to submit events.", "A meter event with a duplicate identifier has
// already been submitted.", "The payload must have a reference to the customer.", "The payload
// must have a value.", "The value must be a positive integer." (decimals are accepted too).
// Events whose customer lives in a test clock take their default timestamp, and the allowed
// range (the past 35 calendar days up to 5 minutes ahead), from the clock's frozen time.
import { invalidRequest, noSuchResource } from '../api/errors.js';
import { checkLimit } from '../api/list.js';
import type { Params } from '../api/params.js';
import type { ReadContext, WriteContext } from '../api/context.js';
import { Aggregate, eventValue, meterEventId, meterEvents, METER_EVENT_OBJECT, METER_OBJECT, USAGE_INDEX, usageKey, usageRecorded } from '../engine/billing/usage.js';
import { missingObject, saveObject, type Obj, type ResourceDef } from './define.js';
import type { StoredObject } from '../store/store.js';

const MAX_EVENT_NAME = 100;
const MAX_DISPLAY_NAME = 250;
const MAX_IDENTIFIER = 100;
const DAY = 86_400;
/** "Must be within the past 35 calendar days or up to 5 minutes in the future." */
const PAST_WINDOW = 35 * DAY;
const FUTURE_WINDOW = 5 * 60;
/** Meter events can be canceled for 24 hours after they were received. */
const CANCEL_WINDOW = DAY;

/** Stripe's refusal of "" for a parameter that cannot be unset (optional strings arrive as null). */
function cannotUnset(param: string): never {
  throw invalidRequest(
    `You passed an empty string for '${param}'. We assume empty values are an attempt to unset a parameter; however '${param}' cannot be unset. You should remove '${param}' from your request or supply a non-empty value.`,
    param, 'parameter_invalid_empty');
}

function maxLength(value: string | null, max: number, param: string): string {
  if (value === null) cannotUnset(param);
  if (value.length > max) throw invalidRequest(`Invalid string: ${value.slice(0, 40)}...; must be at most ${max} characters`, param, 'parameter_invalid_string');
  return value;
}

/** The meters (any status) that record `event_name`, newest first. */
async function metersNamed(ctx: ReadContext, eventName: string): Promise<Obj[]> {
  const rows = await ctx.db.scan(ctx.scope, { type: METER_OBJECT, index: { field: 'event_name', value: eventName }, direction: 'older', limit: 100 });
  return rows.map((r) => r.data);
}

async function assertEventNameFree(ctx: ReadContext, eventName: string, self?: string): Promise<void> {
  const clash = (await metersNamed(ctx, eventName)).find((m) => m.status === 'active' && m.id !== self);
  if (clash) throw invalidRequest(`An active meter with the event name \`${eventName}\` already exists.`, 'event_name');
}

/** The meter named in the URL; 404 `No such meter: 'mtr_x'`, as prices name a missing recurring[meter]. */
async function loadMeter(ctx: ReadContext, id: string, forUpdate = false): Promise<StoredObject> {
  const found = forUpdate ? await (ctx as WriteContext).tx.getForUpdate(ctx.scope, id) : await ctx.db.get(ctx.scope, id);
  if (!found || found.type !== METER_OBJECT || found.deleted) throw await missingObject(ctx, 'meter', METER_OBJECT, id);
  return found;
}

async function setStatus(ctx: WriteContext, def: ResourceDef, id: string, status: 'active' | 'inactive'): Promise<Obj> {
  const current = await loadMeter(ctx, id, true);
  const m = structuredClone(current.data);
  if (m.status === status) {
    throw invalidRequest(status === 'inactive' ? `The meter ${id} is already inactive.` : `The meter ${id} is already active.`);
  }
  if (status === 'active') await assertEventNameFree(ctx, m.event_name, m.id);
  m.status = status;
  m.status_transitions = { deactivated_at: status === 'inactive' ? ctx.now() : null };
  m.updated = ctx.now();
  return saveObject(ctx, def, current, m, status === 'inactive' ? 'billing.meter.deactivated' : 'billing.meter.reactivated');
}

// ---- Meter events

/** "Now" for an event of this customer: its test clock's frozen time, or the server's time. */
async function customerNow(ctx: ReadContext, customer: Obj): Promise<number> {
  if (!customer.test_clock) return ctx.now();
  const clock = await ctx.db.get(ctx.scope, customer.test_clock);
  return clock && !clock.deleted ? clock.data.frozen_time : ctx.now();
}

const VALUE = /^\d+(\.\d+)?$/;

async function createMeterEvent(ctx: WriteContext, p: Params): Promise<Obj> {
  const eventName = maxLength(p.event_name, MAX_EVENT_NAME, 'event_name');
  const meters = await metersNamed(ctx, eventName);
  const meter = meters.find((m) => m.status === 'active');
  if (!meter) {
    throw invalidRequest(meters.length ? 'The meter must be Active to submit events.' : 'A meter must exist to submit events.', 'event_name');
  }
  // "" in a map arrives as null: an absent key, for the checks below.
  const payload: Record<string, string> = Object.fromEntries(Object.entries(p.payload ?? {}).filter(([, v]) => v !== null)) as Record<string, string>;
  const customerKey: string = meter.customer_mapping.event_payload_key;
  const customerId = payload[customerKey];
  if (customerId === undefined || customerId === '') throw invalidRequest('The payload must have a reference to the customer.', `payload[${customerKey}]`);
  const customer = await ctx.db.get(ctx.scope, customerId);
  if (!customer || customer.type !== 'customer' || customer.deleted) throw noSuchResource('customer', customerId, `payload[${customerKey}]`);
  if (meter.default_aggregation.formula !== 'count') {
    const valueKey: string = meter.value_settings.event_payload_key;
    const value = payload[valueKey];
    if (value === undefined || value === '') throw invalidRequest('The payload must have a value.', `payload[${valueKey}]`);
    if (!VALUE.test(value)) throw invalidRequest('The value must be a positive integer.', `payload[${valueKey}]`);
  }

  const now = await customerNow(ctx, customer.data);
  const timestamp: number = p.timestamp ?? now;
  if (timestamp < now - PAST_WINDOW) {
    throw invalidRequest(`The timestamp ${timestamp} is too far in the past: meter events must be within the past 35 calendar days.`, 'timestamp');
  }
  if (timestamp > now + FUTURE_WINDOW) {
    throw invalidRequest(`The timestamp ${timestamp} is too far in the future: meter events may be at most 5 minutes in the future.`, 'timestamp');
  }

  const identifier: string = p.identifier !== undefined
    ? maxLength(p.identifier, MAX_IDENTIFIER, 'identifier')
    : ctx.services.ids.id('mevid', 24).slice('mevid_'.length);
  const id = meterEventId(identifier);
  // A duplicate is one primary-key lookup; two concurrent writers of one identifier cannot both
  // insert the row (PostgreSQL's unique violation retries the loser, which then finds it here).
  if (await ctx.tx.get(ctx.scope, id)) {
    throw invalidRequest('A meter event with a duplicate identifier has already been submitted.', 'identifier');
  }
  const event = {
    object: METER_EVENT_OBJECT,
    created: now,
    event_name: eventName,
    identifier,
    livemode: ctx.scope.livemode,
    payload,
    timestamp,
  };
  await ctx.tx.insert(ctx.scope, {
    // `_customer`: whom the event was mapped to (meter events are never read back through the API).
    id, type: METER_EVENT_OBJECT, created: timestamp, data: { ...event, _customer: customerId },
    index: [{ field: USAGE_INDEX, value: usageKey(customerId, eventName) }],
  });
  await usageRecorded(ctx, { customer: customerId, meter: meter.id, timestamp, now });
  return event;
}

async function createAdjustment(ctx: WriteContext, p: Params): Promise<Obj> {
  const eventName = maxLength(p.event_name, MAX_EVENT_NAME, 'event_name');
  const identifier: string | undefined = p.cancel?.identifier;
  if (identifier === null) cannotUnset('cancel[identifier]');
  if (identifier === undefined) throw invalidRequest('Missing required param: cancel[identifier].', 'cancel[identifier]', 'parameter_missing');
  const row = await ctx.tx.getForUpdate(ctx.scope, meterEventId(identifier));
  if (!row || row.type !== METER_EVENT_OBJECT || row.data.event_name !== eventName) {
    throw invalidRequest(`No meter event with the identifier '${identifier}' and the event name '${eventName}' was found.`, 'cancel[identifier]', 'resource_missing');
  }
  if (row.deleted) throw invalidRequest(`The meter event with the identifier '${identifier}' has already been canceled.`, 'cancel[identifier]');
  const customer = await ctx.db.get(ctx.scope, row.data._customer);
  const now = customer && customer.type === 'customer' ? await customerNow(ctx, customer.data) : ctx.now();
  if (row.data.created + CANCEL_WINDOW < now) {
    throw invalidRequest(`The meter event with the identifier '${identifier}' can no longer be canceled: meter events can be canceled within 24 hours of being received.`, 'cancel[identifier]');
  }
  // Canceled: a tombstone, left out of every aggregation; its identifier stays taken.
  await ctx.tx.update(ctx.scope, { id: row.id, version: row.version, data: { ...row.data, canceled: true }, index: [], deleted: true });
  return {
    object: 'billing.meter_event_adjustment',
    cancel: { identifier },
    event_name: eventName,
    livemode: ctx.scope.livemode,
    status: 'complete', // applied at once (Stripe answers pending, then completes asynchronously)
    type: 'cancel',
  };
}

// ---- Event summaries

const WINDOW_SECONDS = { hour: 3600, day: DAY } as const;

function summaryId(ctx: ReadContext, meter: string, customer: string, start: number, end: number): string {
  const raw = Buffer.from(`${meter}|${customer}|${start}|${end}`).toString('hex');
  return `mtrusg_${ctx.scope.livemode ? '' : 'test_'}${raw}`;
}

function parseSummaryId(id: string): { start: number } | null {
  const m = /^mtrusg_(?:test_)?([0-9a-f]+)$/.exec(id);
  if (!m) return null;
  const parts = Buffer.from(m[1]!, 'hex').toString().split('|');
  const start = Number(parts[2]);
  return parts.length === 4 && Number.isInteger(start) ? { start } : null;
}

async function eventSummaries(ctx: ReadContext, meterId: string, p: Params): Promise<Obj> {
  const meter = (await loadMeter(ctx, meterId)).data;
  const limit = checkLimit(p.limit);
  if (p.starting_after !== undefined && p.ending_before !== undefined) {
    throw invalidRequest('Received both starting_after and ending_before parameters. Please pass in only one.');
  }
  const start: number = p.start_time;
  const end: number = p.end_time;
  const window: 'hour' | 'day' | undefined = p.value_grouping_window;
  const align = window ? WINDOW_SECONDS[window] : 60;
  const unit = window === 'day' ? 'day (00:00 UTC)' : window === 'hour' ? 'hour' : 'minute';
  if (start % align !== 0) throw invalidRequest(`start_time must be aligned with ${unit} boundaries.`, 'start_time');
  if (end % align !== 0) throw invalidRequest(`end_time must be aligned with ${unit} boundaries.`, 'end_time');
  if (end <= start) throw invalidRequest('end_time must be after start_time.', 'end_time');
  const customer: string = p.customer;

  // One range scan for the whole interval; events fold into their windows.
  const buckets = new Map<number, Aggregate>();
  const formula = meter.default_aggregation.formula;
  if (!window) buckets.set(start, new Aggregate(formula));
  for await (const e of meterEvents(ctx, meter, customer, start, end)) {
    const key = window ? start + Math.floor((e.created - start) / align) * align : start;
    let agg = buckets.get(key);
    if (!agg) buckets.set(key, (agg = new Aggregate(formula)));
    agg.add(eventValue(e.data, meter));
  }
  // Newest first, as Stripe lists them; windows without events are left out.
  let all = [...buckets.entries()].sort((a, b) => b[0] - a[0]).map(([s, agg]) => {
    const e = window ? Math.min(s + align, end) : end;
    return {
      id: summaryId(ctx, meter.id, customer, s, e), object: 'billing.meter_event_summary', aggregated_value: agg.value,
      end_time: e, livemode: ctx.scope.livemode, meter: meter.id, start_time: s,
    };
  });
  const cursor = p.starting_after ?? p.ending_before;
  if (cursor !== undefined) {
    const param = p.starting_after !== undefined ? 'starting_after' : 'ending_before';
    const at = parseSummaryId(cursor);
    if (!at) throw invalidRequest(`Invalid ${param} id: ${cursor}`, param);
    if (p.starting_after !== undefined) all = all.filter((s) => s.start_time < at.start);
    else {
      all = all.filter((s) => s.start_time > at.start);
      const has_more = all.length > limit;
      return { object: 'list', data: all.slice(-limit), has_more, url: `/v1/billing/meters/${meter.id}/event_summaries` };
    }
  }
  return { object: 'list', data: all.slice(0, limit), has_more: all.length > limit, url: `/v1/billing/meters/${meter.id}/event_summaries` };
}

// ---- The family

export const billingMeters: ResourceDef = {
  object: METER_OBJECT,
  prefix: 'mtr',
  path: '/v1/billing/meters',
  events: { created: 'billing.meter.created', updated: 'billing.meter.updated' },
  index: (m) => [{ field: 'event_name', value: m.event_name }, { field: 'status', value: m.status }],
  listFilters: (p) => (p.status !== undefined ? { index: { field: 'status', value: p.status } } : {}),

  async create(ctx, p, base) {
    const eventName = maxLength(p.event_name, MAX_EVENT_NAME, 'event_name');
    maxLength(p.display_name, MAX_DISPLAY_NAME, 'display_name');
    await assertEventNameFree(ctx, eventName);
    const customerKey: string = p.customer_mapping?.event_payload_key ?? 'stripe_customer_id';
    const valueKey: string = p.value_settings?.event_payload_key ?? 'value';
    maxLength(customerKey, MAX_EVENT_NAME, 'customer_mapping[event_payload_key]');
    maxLength(valueKey, MAX_EVENT_NAME, 'value_settings[event_payload_key]');
    if (p.default_aggregation.formula !== 'count' && customerKey === valueKey) {
      throw invalidRequest('The customer mapping and value settings cannot use the same event payload key.', 'value_settings[event_payload_key]');
    }
    return {
      ...base,
      customer_mapping: { event_payload_key: customerKey, type: 'by_id' },
      default_aggregation: { formula: p.default_aggregation.formula },
      display_name: p.display_name,
      event_name: eventName,
      event_time_window: p.event_time_window ?? null,
      status: 'active',
      status_transitions: { deactivated_at: null },
      updated: base.created,
      value_settings: { event_payload_key: valueKey },
    };
  },

  // Retrieve and update are the family's own, for the 404's wording.
  standard: { retrieve: false, update: false },

  operations: (def) => [
    {
      method: 'GET', path: '/v1/billing/meters/{id}', write: false,
      handler: async (ctx, _p, path) => (await loadMeter(ctx, path.id!)).data,
    },
    {
      method: 'POST', path: '/v1/billing/meters/{id}', write: true,
      handler: async (ctx, p, path) => {
        const w = ctx as WriteContext;
        const current = await loadMeter(w, path.id!, true);
        const m = structuredClone(current.data);
        if (p.display_name !== undefined) {
          m.display_name = maxLength(p.display_name, MAX_DISPLAY_NAME, 'display_name');
          m.updated = w.now();
        }
        return saveObject(w, def, current, m);
      },
    },
    {
      method: 'POST', path: '/v1/billing/meters/{id}/deactivate', write: true,
      handler: (ctx, _p, path) => setStatus(ctx as WriteContext, def, path.id!, 'inactive'),
    },
    {
      method: 'POST', path: '/v1/billing/meters/{id}/reactivate', write: true,
      handler: (ctx, _p, path) => setStatus(ctx as WriteContext, def, path.id!, 'active'),
    },
    {
      method: 'GET', path: '/v1/billing/meters/{id}/event_summaries', write: false, returnsList: true,
      handler: (ctx, p, path) => eventSummaries(ctx, path.id!, p),
    },
    {
      method: 'POST', path: '/v1/billing/meter_events', write: true,
      handler: (ctx, p) => createMeterEvent(ctx as WriteContext, p),
    },
    {
      method: 'POST', path: '/v1/billing/meter_event_adjustments', write: true,
      handler: (ctx, p) => createAdjustment(ctx as WriteContext, p),
    },
  ],
};
