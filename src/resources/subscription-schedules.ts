// Subscription schedules — https://docs.stripe.com/api/subscription_schedules
// Create (customer + phases with start_date now / a timestamp, or from_subscription), retrieve,
// update (metadata, end_behavior, phases from the current one on), list, cancel, release. Phase
// transitions are timers ('subscription_schedule.phase' at each phase boundary): the schedule
// starts its subscription at the first phase's start, moves the subscription onto each next
// phase's items, and at the end of the last phase releases the subscription or cancels it
// (end_behavior). A transition falling at the same moment as a renewal runs first (the renewal
// asks for it), so the renewal bills the new phase's items.
//
// Events besides created/updated: subscription_schedule.expiring seven days before the last
// phase ends (a timer, 'subscription_schedule.expiring'); .completed when the last phase ends
// with end_behavior=cancel (status completed, its subscription canceled); .released when it ends
// with end_behavior=release or on the release endpoint; .canceled on the cancel endpoint or when
// its subscription is canceled outside the schedule; .aborted when its subscription is canceled
// because of delinquency (dunning's final failed attempt). The schedule then ends with status
// `canceled` (Stripe: "Occurs whenever a subscription schedule is canceled due to the underlying
// subscription being canceled because of delinquency").
//
// Messages are Stripe-style sentences of our own unless marked verified.
import { invalidRequest, missingParam } from '../api/errors.js';
import { applyMetadata } from '../api/metadata.js';
import type { Params } from '../api/params.js';
import type { ReadContext, WriteContext } from '../api/context.js';
import type { StoredObject } from '../store/store.js';
import { boundary, DAY, type Recurrence } from '../engine/billing/periods.js';
import { cancelNow, customerNow, lockSubscription, recurrenceOf, setPhaseHook, setScheduleCancelHook } from '../engine/billing/subscriptions.js';
import { emitEvent } from '../events/events.js';
import { cancelTimer, registerTimeHandler, scheduleTimer } from '../engine/scheduler.js';
import { insertObject, missingObject, newObjectBase, saveObject, type Obj, type Operation, type ResourceDef } from './define.js';
import { missingReference } from './prices.js';
import { loadTaxRates } from './tax-rates.js';
import { createSubscriptionRoute, planOf, subscriptions, updateSubscription } from './subscriptions.js';

const SCHEDULE = 'subscription_schedule';
/** subscription_schedule.expiring: "Occurs 7 days before a subscription schedule will expire." */
export const SCHEDULE_EXPIRING_SECONDS = 7 * DAY;
const EXPIRING_KIND = 'subscription_schedule.expiring';
const live = (s: Obj) => s.status === 'active' || s.status === 'not_started';

async function loadSchedule(ctx: ReadContext, id: string, forUpdate = false): Promise<StoredObject> {
  const row = forUpdate ? await (ctx as WriteContext).tx.getForUpdate(ctx.scope, id) : await ctx.db.get(ctx.scope, id);
  if (!row || row.type !== SCHEDULE || row.deleted) throw await missingObject(ctx, SCHEDULE, SCHEDULE, id);
  return row;
}

/** Metered prices take no quantity (usage is what is billed). */
function meteredQuantity(it: Params, param: string): null {
  if (it.quantity !== undefined && it.quantity !== null) throw invalidRequest('You cannot set the quantity for metered plans.', param);
  return null;
}

async function phaseItems(ctx: WriteContext, list: Params[] | undefined, param: string): Promise<Obj[]> {
  if (!list || !list.length) throw missingParam(`${param}[items]`);
  const out: Obj[] = [];
  for (const [i, it] of list.entries()) {
    const priceId = it.price ?? it.plan;
    if (!priceId) throw missingParam(`${param}[items][${i}][price]`);
    const row = await ctx.db.get(ctx.scope, priceId);
    if (!row || row.type !== 'price' || row.deleted) throw missingReference('price', priceId, `${param}[items][${i}][price]`);
    if (row.data.type !== 'recurring') {
      throw invalidRequest('The price specified is set to `type=one_time` but this field only accepts prices with `type=recurring`.', `${param}[items][${i}][price]`);
    }
    out.push({
      billing_thresholds: null, discounts: [], metadata: applyMetadata({}, it.metadata), plan: planOf(row.data), price: row.id,
      quantity: row.data.recurring?.usage_type === 'metered' ? meteredQuantity(it, `${param}[items][${i}][quantity]`) : (it.quantity ?? 1), tax_rates: await loadTaxRates(ctx, it.tax_rates, `${param}[items][${i}][tax_rates]`),
    });
  }
  return out;
}

/**
 * A phase's `discounts` as Stripe shows them ({coupon, discount, promotion_code}): checked now,
 * redeemed onto the subscription when the phase starts.
 */
async function phaseDiscounts(ctx: ReadContext, list: Params[] | null | undefined, param: string): Promise<Obj[]> {
  const out: Obj[] = [];
  for (const [j, d] of (list ?? []).entries()) {
    const at = `${param}[${j}]`;
    if (d.coupon) {
      const row = await ctx.db.get(ctx.scope, d.coupon);
      if (!row || row.type !== 'coupon' || row.deleted) throw missingReference('coupon', d.coupon, `${at}[coupon]`);
    } else if (d.promotion_code) {
      const row = await ctx.db.get(ctx.scope, d.promotion_code);
      if (!row || row.type !== 'promotion_code' || row.deleted) throw missingReference('promotion code', d.promotion_code, `${at}[promotion_code]`);
    } else if (d.discount) {
      const row = await ctx.db.get(ctx.scope, d.discount);
      if (!row || row.type !== 'discount') throw missingReference('discount', d.discount, `${at}[discount]`);
    } else {
      throw invalidRequest('You must pass either `coupon`, `promotion_code` or `discount`.', at);
    }
    out.push({ coupon: d.coupon ?? null, discount: d.discount ?? null, promotion_code: d.promotion_code ?? null });
  }
  return out;
}

/** A phase's billing_thresholds as the subscription's param. */
const thresholdParams = (phase: Obj): Params => Object.fromEntries(Object.entries(phase.billing_thresholds).filter(([, v]) => v !== null));

/** A phase's discounts as subscription `discounts[]` params. */
const discountParams = (phase: Obj): Params[] => (phase.discounts ?? []).map((d: Obj) =>
  d.discount ? { discount: d.discount } : d.promotion_code ? { promotion_code: d.promotion_code } : { coupon: d.coupon });

async function buildPhases(ctx: WriteContext, list: Params[], start: number, prefix = 'phases'): Promise<Obj[]> {
  const phases: Obj[] = [];
  let at = start;
  for (const [i, p] of list.entries()) {
    const param = `${prefix}[${i}]`;
    const items = await phaseItems(ctx, p.items, param);
    const first = (await ctx.db.get(ctx.scope, items[0]!.price))!.data;
    let end: number;
    if (p.end_date !== undefined && p.end_date !== null) {
      if (p.end_date <= at) throw invalidRequest('Phase end_date must be after its start_date.', `${param}[end_date]`);
      end = p.end_date;
    } else if (p.duration) {
      end = boundary(at, { interval: p.duration.interval, interval_count: p.duration.interval_count ?? 1 } as Recurrence, 1);
    } else if (p.iterations) {
      end = boundary(at, recurrenceOf(first), p.iterations);
    } else {
      if (i < list.length - 1) throw invalidRequest('Every phase but the last must have an `end_date` or a `duration`.', `${param}[end_date]`);
      end = boundary(at, recurrenceOf(first), 1); // one iteration of the phase's price by default
    }
    phases.push({
      add_invoice_items: [], application_fee_percent: null,
      billing_cycle_anchor: p.billing_cycle_anchor ?? null,
      billing_thresholds: p.billing_thresholds ? { amount_gte: p.billing_thresholds.amount_gte ?? null, reset_billing_cycle_anchor: p.billing_thresholds.reset_billing_cycle_anchor ?? null } : null,
      collection_method: p.collection_method ?? null,
      currency: first.currency, default_payment_method: p.default_payment_method ?? null,
      default_tax_rates: await loadTaxRates(ctx, p.default_tax_rates, `${param}[default_tax_rates]`),
      description: p.description ?? null, discounts: await phaseDiscounts(ctx, p.discounts, `${param}[discounts]`), end_date: end,
      invoice_settings: null, items, metadata: applyMetadata({}, p.metadata), on_behalf_of: null,
      proration_behavior: p.proration_behavior ?? 'create_prorations', start_date: at, transfer_data: null,
      trial_end: p.trial_end ?? null,
    });
    at = end;
  }
  return phases;
}

const currentPhase = (s: Obj, t: number) => s.phases.find((p: Obj) => p.start_date <= t && t < p.end_date) ?? null;

function withCurrent(s: Obj, t: number): Obj {
  const p = s.status === 'active' ? currentPhase(s, t) : null;
  return { ...s, current_phase: p ? { end_date: p.end_date, start_date: p.start_date } : null };
}

async function syncScheduleTimer(ctx: WriteContext, s: Obj, now: number): Promise<void> {
  let at: number | null = null;
  if (s.status === 'not_started') at = s.phases[0].start_date;
  else if (s.status === 'active') at = (currentPhase(s, now) ?? s.phases[s.phases.length - 1]).end_date;
  if (at !== null) await scheduleTimer(ctx, { kind: 'subscription_schedule.phase', key: s.id, at, testClock: s.test_clock ?? null });
  else await cancelTimer(ctx, 'subscription_schedule.phase', s.id);
  const warn = live(s) ? s.phases[s.phases.length - 1].end_date - SCHEDULE_EXPIRING_SECONDS : null;
  if (warn !== null && warn > now) await scheduleTimer(ctx, { kind: EXPIRING_KIND, key: s.id, at: warn, testClock: s.test_clock ?? null });
  else await cancelTimer(ctx, EXPIRING_KIND, s.id);
}

async function saveSchedule(ctx: WriteContext, row: StoredObject, next: Obj, now: number, eventType?: string): Promise<Obj> {
  const data = await saveObject(ctx, subscriptionSchedules, row, withCurrent(next, now), eventType);
  await syncScheduleTimer(ctx, data, now);
  return data;
}

/** Starts the schedule's subscription on its first phase. */
async function startSubscription(ctx: WriteContext, s: Obj, phase: Obj): Promise<string> {
  const sub = await createSubscriptionRoute(ctx, {
    customer: s.customer,
    items: phase.items.map((it: Obj) => ({ price: it.price, ...(it.quantity !== null ? { quantity: it.quantity } : {}), metadata: it.metadata, tax_rates: (it.tax_rates ?? []).map((r: Obj) => r.id) })),
    ...(phase.discounts?.length ? { discounts: discountParams(phase) } : {}),
    ...(phase.billing_thresholds ? { billing_thresholds: thresholdParams(phase) } : {}),
    ...(phase.default_tax_rates?.length ? { default_tax_rates: phase.default_tax_rates.map((r: Obj) => r.id) } : {}),
    ...(phase.trial_end ? { trial_end: phase.trial_end } : {}),
    ...(phase.collection_method ? { collection_method: phase.collection_method } : {}),
    ...(phase.default_payment_method ? { default_payment_method: phase.default_payment_method } : {}),
  });
  const row = (await lockSubscription(ctx, sub.id))!;
  await saveObject(ctx, subscriptions, row, { ...structuredClone(row.data), schedule: s.id });
  return sub.id;
}

/** The `items` update that moves a subscription onto `phase`'s items. */
export function phaseItemChanges(sub: Obj, phase: Obj): Params[] {
  const current: Obj[] = sub.items.data;
  const items: Params[] = [];
  for (const it of current) if (!phase.items.some((p: Obj) => p.price === it.price.id)) items.push({ id: it.id, deleted: true });
  for (const p of phase.items) {
    const existing = current.find((it) => it.price.id === p.price);
    const taxRates = (p.tax_rates ?? []).map((r: Obj) => r.id);
    const quantity = p.quantity !== null ? { quantity: p.quantity } : {};
    items.push(existing ? { id: existing.id, ...quantity, tax_rates: taxRates } : { price: p.price, ...quantity, tax_rates: taxRates });
  }
  return items;
}

/** Phases as a schedule would store them (create_preview's schedule_details); writes nothing. */
export function previewPhases(ctx: WriteContext, list: Params[], start: number, prefix: string): Promise<Obj[]> {
  return buildPhases(ctx, list, start, prefix);
}

/** Moves the subscription onto `phase`'s items (prorating per the phase's proration_behavior). */
async function enterPhase(ctx: WriteContext, subId: string, phase: Obj): Promise<void> {
  const row = await lockSubscription(ctx, subId);
  if (!row) return;
  // The phase's discounts and default tax rates become the subscription's (none: it has none).
  // A coupon the subscription already has a discount from keeps that discount (not redeemed again).
  const held: Obj[] = [];
  for (const id of row.data.discounts as string[]) { const d = await ctx.db.get(ctx.scope, id); if (d) held.push(d.data); }
  const discounts = discountParams(phase).map((d) => {
    const i = d.coupon ? held.findIndex((h) => h.source?.coupon === d.coupon && !h.promotion_code) : d.promotion_code ? held.findIndex((h) => h.promotion_code === d.promotion_code) : -1;
    if (i < 0) return d;
    const [h] = held.splice(i, 1);
    return { discount: h!.id };
  });
  const same = discounts.length === row.data.discounts.length && discounts.every((d, i) => d.discount === row.data.discounts[i]);
  await updateSubscription(ctx, row, {
    items: phaseItemChanges(row.data, phase), proration_behavior: phase.proration_behavior,
    ...(same ? {} : { discounts }),
    default_tax_rates: (phase.default_tax_rates ?? []).map((r: Obj) => r.id),
    ...(phase.billing_thresholds || row.data.billing_thresholds ? { billing_thresholds: phase.billing_thresholds ? thresholdParams(phase) : null } : {}),
  });
}

/** Runs the schedule's transition due at ctx.now(), if any. */
async function transition(ctx: WriteContext, id: string): Promise<void> {
  const row = await ctx.tx.getForUpdate(ctx.scope, id);
  if (!row || row.deleted || row.type !== SCHEDULE) return;
  const now = ctx.now();
  const s = structuredClone(row.data);
  if (s.status === 'not_started') {
    if (s.phases[0].start_date > now) return;
    s.status = 'active';
    s.subscription = await startSubscription(ctx, s, s.phases[0]);
    await saveSchedule(ctx, row, s, now);
    return;
  }
  if (s.status !== 'active') return;
  const last = s.phases[s.phases.length - 1];
  if (now >= last.end_date) {
    if (s.end_behavior === 'cancel') {
      const sub = await lockSubscription(ctx, s.subscription);
      if (sub && !['canceled', 'incomplete_expired'].includes(sub.data.status)) await cancelNow(ctx, sub, null, { fromSchedule: true });
      s.status = 'completed';
      s.completed_at = now;
      await saveSchedule(ctx, (await ctx.tx.getForUpdate(ctx.scope, id))!, s, now, 'subscription_schedule.completed');
      return;
    } else {
      s.status = 'released';
      s.released_at = now;
      s.released_subscription = s.subscription;
      const sub = await lockSubscription(ctx, s.subscription);
      if (sub) await saveObject(ctx, subscriptions, sub, { ...structuredClone(sub.data), schedule: null });
      s.subscription = null;
    }
    await saveSchedule(ctx, (await ctx.tx.getForUpdate(ctx.scope, id))!, s, now, 'subscription_schedule.released');
    return;
  }
  const phase = currentPhase(s, now);
  if (!phase || phase.start_date !== now) { await syncScheduleTimer(ctx, s, now); return; }
  await enterPhase(ctx, s.subscription, phase);
  await saveSchedule(ctx, (await ctx.tx.getForUpdate(ctx.scope, id))!, s, now);
}

registerTimeHandler('subscription_schedule.phase', { run: async (ctx, item) => { await transition(ctx, item.key); } });

registerTimeHandler(EXPIRING_KIND, {
  run: async (ctx, item) => {
    const row = await ctx.tx.getForUpdate(ctx.scope, item.key);
    if (!row || row.deleted || row.type !== SCHEDULE || !live(row.data)) return;
    const end = row.data.phases[row.data.phases.length - 1].end_date;
    if (end - SCHEDULE_EXPIRING_SECONDS !== ctx.now()) return; // phases changed since: a stale timer
    await emitEvent(ctx, 'subscription_schedule.expiring', withCurrent(row.data, ctx.now()));
  },
});

// The schedule's subscription was canceled outside it: the schedule ends, canceled (aborted when
// the cancellation was dunning's).
setScheduleCancelHook(async (ctx, sub) => {
  const row = await ctx.tx.getForUpdate(ctx.scope, sub.schedule);
  if (!row || row.deleted || row.type !== SCHEDULE || !live(row.data)) return;
  const now = ctx.now();
  const s = { ...structuredClone(row.data), status: 'canceled', canceled_at: now };
  const type = sub.cancellation_details?.reason === 'payment_failed' ? 'subscription_schedule.aborted' : 'subscription_schedule.canceled';
  await saveSchedule(ctx, row, s, now, type);
});

// A renewal at a phase boundary first lets the schedule move to its next phase.
setPhaseHook(async (ctx, sub) => {
  if (!sub.schedule) return;
  const row = await ctx.tx.getForUpdate(ctx.scope, sub.schedule);
  if (!row || row.data.status !== 'active') return;
  const due = row.data.phases.some((p: Obj) => p.start_date === ctx.now()) || row.data.phases[row.data.phases.length - 1].end_date === ctx.now();
  if (due) {
    await cancelTimer(ctx, 'subscription_schedule.phase', row.id);
    await transition(ctx, row.id);
  }
});

async function createSchedule(ctx: WriteContext, p: Params): Promise<Obj> {
  const base = newObjectBase(ctx, subscriptionSchedules);
  let customerId: string;
  let phases: Params[];
  let start: number;
  let fromSub: StoredObject | null = null;
  if (p.from_subscription) {
    if (p.phases || p.customer) throw invalidRequest('You cannot set `phases` or `customer` when `from_subscription` is set.', 'from_subscription');
    fromSub = await lockSubscription(ctx, p.from_subscription);
    if (!fromSub) throw missingReference('subscription', p.from_subscription, 'from_subscription');
    if (fromSub.data.schedule) throw invalidRequest(`You cannot migrate a subscription that is already attached to a schedule: \`${fromSub.data.schedule}\`.`, 'from_subscription');
    customerId = fromSub.data.customer;
    const it0 = fromSub.data.items.data[0];
    start = it0.current_period_start;
    phases = [{
      items: fromSub.data.items.data.map((it: Obj) => ({
        price: it.price.id, ...(it.price.recurring?.usage_type === 'metered' ? {} : { quantity: it.quantity }), tax_rates: (it.tax_rates ?? []).map((r: Obj) => r.id),
      })),
      end_date: it0.current_period_end,
      discounts: (fromSub.data.discounts as string[]).map((id) => ({ discount: id })),
      default_tax_rates: (fromSub.data.default_tax_rates ?? []).map((r: Obj) => r.id),
    }];
  } else {
    if (!p.customer) throw missingParam('customer');
    customerId = p.customer;
    if (!p.phases || !p.phases.length) throw missingParam('phases');
    phases = p.phases;
    start = 0;
  }
  const customer = await ctx.db.get(ctx.scope, customerId);
  if (!customer || customer.type !== 'customer' || customer.deleted) throw missingReference('customer', customerId, 'customer');
  const now = await customerNow(ctx, customer.data);
  if (!fromSub) start = p.start_date === undefined || p.start_date === 'now' ? now : p.start_date;
  const s: Obj = {
    ...base, created: now,
    application: null, billing_mode: { flexible: null, type: 'flexible' }, canceled_at: null, completed_at: null, current_phase: null,
    customer: customerId, customer_account: null,
    default_settings: {
      application_fee_percent: null, automatic_tax: { disabled_reason: null, enabled: false, liability: null }, billing_cycle_anchor: 'automatic',
      billing_thresholds: null, collection_method: 'charge_automatically', default_payment_method: null, description: null,
      invoice_settings: { account_tax_ids: null, days_until_due: null, issuer: { type: 'self' } }, on_behalf_of: null, transfer_data: null,
    },
    end_behavior: p.end_behavior ?? 'release', metadata: applyMetadata({}, p.metadata),
    phases: await buildPhases(ctx, phases, start), released_at: null, released_subscription: null,
    status: 'not_started', subscription: null, test_clock: customer.data.test_clock ?? null,
  };
  if (fromSub) {
    s.status = 'active';
    s.subscription = fromSub.id;
  }
  const stored = await insertObject(ctx, subscriptionSchedules, withCurrent(s, now));
  if (fromSub) await saveObject(ctx, subscriptions, fromSub, { ...structuredClone(fromSub.data), schedule: stored.id });
  const row = (await ctx.tx.getForUpdate(ctx.scope, stored.id))!;
  if (!fromSub && start <= now) {
    const at = Object.assign(Object.create(Object.getPrototypeOf(ctx)), ctx, { now: () => now }) as WriteContext;
    const next: Obj = { ...structuredClone(row.data), status: 'active' };
    next.subscription = await startSubscription(at, next, next.phases[0]);
    return saveSchedule(ctx, row, next, now);
  }
  await syncScheduleTimer(ctx, stored, now);
  return stored;
}

function refuseStatus(action: string, s: Obj, allowed: string[]): never {
  throw invalidRequest(`You cannot ${action} a subscription schedule that is currently in the \`${s.status}\` status. It must be in one of the following statuses: ${allowed.map((a) => `\`${a}\``).join(', ')}.`);
}

async function nowFor(ctx: WriteContext, s: Obj): Promise<number> {
  const customer = (await ctx.db.get(ctx.scope, s.customer))!.data;
  return customerNow(ctx, customer);
}

function operations(def: ResourceDef): Operation[] {
  return [
    { method: 'POST', path: def.path, write: true, handler: (ctx, p) => createSchedule(ctx as WriteContext, p) },
    {
      method: 'POST', path: `${def.path}/{id}`, write: true,
      handler: async (ctx, p, path) => {
        const w = ctx as WriteContext;
        const row = await loadSchedule(w, path.id!, true);
        const s = structuredClone(row.data);
        if (['canceled', 'completed', 'released'].includes(s.status)) refuseStatus('update', s, ['active', 'not_started']);
        const now = await nowFor(w, s);
        s.metadata = applyMetadata(s.metadata, p.metadata);
        if (p.end_behavior !== undefined) s.end_behavior = p.end_behavior;
        if (p.phases !== undefined) {
          const start = s.status === 'active' ? (currentPhase(s, now) ?? s.phases[0]).start_date : (p.phases[0]?.start_date ?? s.phases[0].start_date);
          s.phases = await buildPhases(w, p.phases, start);
          if (s.status === 'active') {
            const phase = currentPhase(s, now);
            if (phase) await enterPhase(Object.assign(Object.create(Object.getPrototypeOf(w)), w, { now: () => now }) as WriteContext, s.subscription, { ...phase, proration_behavior: p.proration_behavior ?? phase.proration_behavior });
          }
        }
        return saveSchedule(w, row, s, now);
      },
    },
    {
      method: 'POST', path: `${def.path}/{id}/cancel`, write: true,
      handler: async (ctx, p, path) => {
        const w = ctx as WriteContext;
        const row = await loadSchedule(w, path.id!, true);
        const s = structuredClone(row.data);
        if (!['active', 'not_started'].includes(s.status)) refuseStatus('cancel', s, ['active', 'not_started']);
        const now = await nowFor(w, s);
        const at = Object.assign(Object.create(Object.getPrototypeOf(w)), w, { now: () => now }) as WriteContext;
        if (s.subscription) {
          const sub = await lockSubscription(w, s.subscription);
          if (sub && !['canceled', 'incomplete_expired'].includes(sub.data.status)) await cancelNow(at, sub, null, { invoiceNow: !!p.invoice_now, prorate: p.prorate ?? true, fromSchedule: true });
        }
        s.status = 'canceled';
        s.canceled_at = now;
        return saveSchedule(w, (await w.tx.getForUpdate(w.scope, s.id))!, s, now, 'subscription_schedule.canceled');
      },
    },
    {
      method: 'POST', path: `${def.path}/{id}/release`, write: true,
      handler: async (ctx, _p, path) => {
        const w = ctx as WriteContext;
        const row = await loadSchedule(w, path.id!, true);
        const s = structuredClone(row.data);
        if (!['active', 'not_started'].includes(s.status)) refuseStatus('release', s, ['active', 'not_started']);
        const now = await nowFor(w, s);
        if (s.subscription) {
          const sub = await lockSubscription(w, s.subscription);
          if (sub) await saveObject(w, subscriptions, sub, { ...structuredClone(sub.data), schedule: null });
        }
        s.status = 'released';
        s.released_at = now;
        s.released_subscription = s.subscription;
        s.subscription = null;
        return saveSchedule(w, row, s, now, 'subscription_schedule.released');
      },
    },
  ];
}

export const subscriptionSchedules: ResourceDef = {
  object: SCHEDULE,
  prefix: 'sub_sched',
  path: '/v1/subscription_schedules',
  events: { created: 'subscription_schedule.created', updated: 'subscription_schedule.updated' },
  index: (s) => [{ field: 'customer', value: s.customer }],
  listFilters: (p) => {
    const filter = (d: Obj) => (p.scheduled === undefined || (d.status === 'not_started') === p.scheduled)
      && (p.completed === undefined || (d.status === 'completed') === p.completed)
      && (p.released === undefined || (d.status === 'released') === p.released)
      && (p.canceled === undefined || (d.status === 'canceled') === p.canceled);
    return p.customer !== undefined ? { index: { field: 'customer', value: p.customer }, filter } : { filter };
  },
  standard: { create: false, update: false, delete: false },
  operations,
};

