// The subscriptions engine: what happens to a subscription when time passes or an invoice is
// settled. Pure period/proration arithmetic lives in periods.ts and proration.ts; invoicing goes
// through subscription-invoicing.ts (the invoices engine); timers through the scheduler.
//
// Timers (one row per kind and subscription id):
//   subscription.renew            at the earliest of the items' current_period_end and cancel_at:
//                                 a trial ends, a period renews (invoice billing_reason
//                                 subscription_cycle), or the subscription cancels;
//   subscription.trial_will_end   three days before trial_end;
//   subscription.incomplete_expire 23 hours after creation while incomplete;
//   subscription.pause_resume     pause_collection.resumes_at.
// Every handler reloads the subscription with a row lock and does nothing when the state it
// was scheduled for no longer holds, so a stale timer is harmless.
import type { ReadContext, WriteContext } from '../../api/context.js';
import { emitEvent } from '../../events/events.js';
import { canonicalize } from '../../api/render.js';
import { indexEntries, saveObject, type Obj, type ResourceDef } from '../../resources/define.js';
import type { StoredObject } from '../../store/store.js';
import { boundary, DAY, formatDay, nextBoundaryAfter, type Recurrence } from './periods.js';
import { periodAmount, prorationLines, type BillingMode } from './proration.js';
import { onUsageRecorded } from './usage.js';
import { invoicing, onSubscriptionInvoice, type BillingLine, type BillingReason, type InvoiceOutcome } from './subscription-invoicing.js';
import { cancelTimer, registerTimeHandler, scheduleTimer } from '../scheduler.js';

export const INCOMPLETE_EXPIRY_SECONDS = 23 * 3600;
export const TRIAL_WILL_END_SECONDS = 3 * DAY;
/**
 * How long before a renewal `invoice.upcoming` goes out: Stripe's "upcoming renewal events"
 * billing setting, here PINSTRIPE_UPCOMING_RENEWAL_DAYS (default 3 days).
 */
export const UPCOMING_RENEWAL_SECONDS = Math.round(Number(process.env.PINSTRIPE_UPCOMING_RENEWAL_DAYS || 3) * DAY);
export const UPCOMING_KIND = 'subscription.upcoming';

/** The renewal an `invoice.upcoming` announces: one that bills automatically (not a cancellation); else null. */
export function upcomingRenewalAt(sub: Obj): number | null {
  if (sub.collection_method !== 'charge_automatically' || !['active', 'trialing', 'past_due'].includes(sub.status)) return null;
  if (sub.cancel_at_period_end || sub.pause_collection) return null;
  const at = nextRenewalAt(sub);
  if (at === null || (sub.cancel_at !== null && sub.cancel_at <= at)) return null;
  return at;
}

/** Set by src/resources/subscriptions.ts (avoids an import cycle). */
let subscriptionsDef: ResourceDef;
export function bindSubscriptionsDef(def: ResourceDef): void { subscriptionsDef = def; }

/** What happens after the final dunning attempt fails: Stripe's account setting (Billing → Subscriptions and emails). */
export type FinalFailureBehavior = 'cancel' | 'unpaid' | 'past_due';
let finalFailure: FinalFailureBehavior = 'cancel';
export function setFinalFailureBehavior(b: FinalFailureBehavior): void { finalFailure = b; }
export function finalFailureBehavior(): FinalFailureBehavior { return finalFailure; }

export const recurrenceOf = (price: Obj): Recurrence => ({ interval: price.recurring.interval, interval_count: price.recurring.interval_count });

/**
 * The time a customer's objects live in: a test clock's frozen time (its timer's time while it
 * advances, which is ctx.now() inside a timer), the server's clock otherwise.
 */
export async function customerNow(ctx: ReadContext, customer: Obj): Promise<number> {
  const at = (ctx as any)[PREVIEW_AT];
  if (typeof at === 'number') return at;
  if (!customer.test_clock) return ctx.now();
  const clock = await ctx.db.get(ctx.scope, customer.test_clock);
  if (!clock || clock.deleted) return ctx.now();
  return clock.data.status === 'advancing' ? ctx.now() : clock.data.frozen_time;
}

/** A context property: the moment a preview (create_preview of a future start) computes at, in place of the customer's time. */
export const PREVIEW_AT = Symbol('preview at');

/** Money as Stripe writes it in line descriptions: $10.00, €9.50, ¥500. */
export function money(amount: number, currency: string): string {
  const zero = ['bif', 'clp', 'djf', 'gnf', 'jpy', 'kmf', 'krw', 'mga', 'pyg', 'rwf', 'ugx', 'vnd', 'vuv', 'xaf', 'xof', 'xpf'].includes(currency);
  const symbols: Record<string, string> = { usd: '$', eur: '€', gbp: '£', jpy: '¥', cad: 'CA$', aud: 'A$' };
  const v = zero ? String(amount) : (amount / 100).toFixed(2);
  const sym = symbols[currency];
  return sym ? `${sym}${v}` : `${v} ${currency.toUpperCase()}`;
}

function intervalLabel(r: Recurrence): string {
  return r.interval_count === 1 ? r.interval : `every ${r.interval_count} ${r.interval}s`;
}

/** "1 × Basic (at $10.00 / month)": a subscription line's description. */
export function cycleDescription(productName: string, price: Obj, quantity: number): string {
  const unit = typeof price.unit_amount === 'number' ? ` (at ${money(price.unit_amount, price.currency)} / ${intervalLabel(recurrenceOf(price))})` : '';
  return `${quantity} × ${productName}${unit}`;
}

export async function productName(ctx: ReadContext, price: Obj): Promise<string> {
  const row = await ctx.db.get(ctx.scope, price.product);
  return row?.data.name ?? price.product;
}

/** The full stored price (with tiers), as arithmetic needs it. */
export async function fullPrice(ctx: ReadContext, price: Obj): Promise<Obj> {
  const row = await ctx.db.get(ctx.scope, price.id);
  return row ? row.data : price;
}

export const isMetered = (price: Obj) => price.recurring?.usage_type === 'metered';

/** The renewal lines for the items whose period is [start, end): licensed billed in advance. */
export async function cycleLines(ctx: ReadContext, sub: Obj, items: Obj[]): Promise<BillingLine[]> {
  const out: BillingLine[] = [];
  for (const it of items) {
    if (isMetered(it.price)) continue;
    const price = await fullPrice(ctx, it.price);
    out.push({
      price: it.price, quantity: it.quantity, amount: periodAmount(price, it.quantity),
      description: cycleDescription(await productName(ctx, it.price), it.price, it.quantity),
      period: { start: it.current_period_start, end: it.current_period_end }, proration: false, subscription_item: it.id,
    });
  }
  return out;
}

/** Metered usage of a closed period, billed in arrears (the meters engine's aggregation, when installed). */
export type UsageFn = (ctx: ReadContext, meter: string, customer: string, start: number, end: number) => Promise<number>;
let usageFn: UsageFn | null = null;
export function setUsageFunction(fn: UsageFn): void { usageFn = fn; }

export async function meteredLines(ctx: ReadContext, sub: Obj, items: Obj[], period: (it: Obj) => { start: number; end: number }): Promise<BillingLine[]> {
  const out: BillingLine[] = [];
  if (!usageFn) return out;
  for (const it of items) {
    if (!isMetered(it.price) || !it.price.recurring.meter) continue;
    const p = period(it);
    const usage = await usageFn(ctx, it.price.recurring.meter, sub.customer, p.start, p.end);
    const price = await fullPrice(ctx, it.price);
    out.push({
      price: it.price, quantity: usage, amount: periodAmount(price, usage),
      description: cycleDescription(await productName(ctx, it.price), it.price, usage),
      period: p, proration: false, subscription_item: it.id,
    });
  }
  return out;
}

/** Proration lines for changing `before` items into `after` items at `at` (items matched by id). */
export async function prorationsFor(ctx: WriteContext, sub: Obj, before: Obj[], after: Obj[], at: number): Promise<BillingLine[]> {
  const mode: BillingMode = sub.billing_mode?.type === 'classic' ? 'classic' : 'flexible';
  const names = new Map<string, string>();
  for (const it of [...before, ...after]) names.set(it.price.id, await productName(ctx, it.price));
  const lines: BillingLine[] = [];
  const ids = new Set([...before.map((i) => i.id), ...after.map((i) => i.id)]);
  for (const id of ids) {
    const old = before.find((i) => i.id === id) ?? null;
    const next = after.find((i) => i.id === id) ?? null;
    const ref = old ?? next!;
    // An item added mid-period prorates against the period its siblings are in.
    const sibling = old ? null : before.find((b) => b.current_period_end === ref.current_period_end);
    const period = { start: (sibling ?? ref).current_period_start, end: ref.current_period_end };
    if (sub.status === 'trialing') continue; // nothing is billed during a trial
    let billed = null;
    if (old && mode === 'flexible') {
      billed = (await invoicing().billedFor?.(ctx, sub, old)) ?? {
        amount: periodAmount(await fullPrice(ctx, old.price), old.quantity), start: period.start, end: period.end,
      };
    }
    const raw = prorationLines(
      old ? { price: await fullPrice(ctx, old.price), quantity: old.quantity, billed } : null,
      next ? { price: await fullPrice(ctx, next.price), quantity: next.quantity } : null,
      period, at, mode, (p) => names.get(p.id) ?? p.product, formatDay(at),
    );
    for (const l of raw) {
      lines.push({
        price: l.kind === 'credit' ? old!.price : next!.price, quantity: l.quantity, amount: l.amount, description: l.description,
        period: l.period, proration: true, subscription_item: l.kind === 'credit' ? old!.id : next!.id,
      });
    }
  }
  return lines;
}

// ---- Timers

/** The moment the subscription next needs the scheduler (period end, trial end, cancel_at). */
export function nextRenewalAt(sub: Obj): number | null {
  if (['canceled', 'incomplete_expired', 'incomplete'].includes(sub.status)) return null;
  let at: number | null = null;
  if (sub.status !== 'paused') {
    for (const it of sub.items.data) if (at === null || it.current_period_end < at) at = it.current_period_end;
  }
  if (sub.cancel_at !== null && (at === null || sub.cancel_at < at)) at = sub.cancel_at;
  return at;
}

// ---- Billing thresholds
// billing_thresholds.amount_gte (the subscription) and usage_gte (its metered items): when the
// metered usage of the current period reaches one, the subscription is invoiced at once
// (billing_reason subscription_threshold) for the usage so far, and, with
// reset_billing_cycle_anchor, starts a new billing period then (its licensed items' unused time
// credited, the new period billed). Usage is checked by a timer ('subscription.threshold') at the
// first whole hour after usage is recorded for the customer (a meter event) or thresholds are set:
// an approximation of Stripe's evaluation as usage is reported, which costs nothing while no
// usage arrives.
export const THRESHOLD_KIND = 'subscription.threshold';
export const THRESHOLD_CHECK_SECONDS = 3600;

/** Index field of subscriptions with billing thresholds (value: the customer), which meter events look up. */
export const THRESHOLDS_INDEX = 'thresholds';
export const hasThresholds = (sub: Obj) => (sub.billing_thresholds?.amount_gte ?? null) !== null
  || sub.items.data.some((it: Obj) => (it.billing_thresholds?.usage_gte ?? null) !== null);

/** The next whole hour after `now` at which a subscription with thresholds checks its usage, or null. */
export function thresholdCheckAt(sub: Obj, now: number): number | null {
  if (!['active', 'past_due'].includes(sub.status) || !hasThresholds(sub)) return null;
  return (Math.floor(now / THRESHOLD_CHECK_SECONDS) + 1) * THRESHOLD_CHECK_SECONDS;
}

/** Schedules the subscription's threshold check at the first whole hour after `after`, if it has thresholds. */
export async function scheduleThresholdCheck(ctx: WriteContext, sub: Obj, after: number): Promise<void> {
  const at = thresholdCheckAt(sub, after);
  if (at !== null) await scheduleTimer(ctx, { kind: THRESHOLD_KIND, key: sub.id, at, testClock: sub.test_clock ?? null });
}

onUsageRecorded(async (ctx, u) => {
  const rows = await ctx.db.scan(ctx.scope, { type: 'subscription', index: { field: THRESHOLDS_INDEX, value: u.customer }, direction: 'newer', limit: 100 });
  for (const r of rows) {
    if (r.deleted || !r.data.items.data.some((it: Obj) => it.price.recurring?.meter === u.meter)) continue;
    await scheduleThresholdCheck(ctx, r.data, Math.max(u.timestamp, u.now));
  }
});

async function checkThresholds(ctx: WriteContext, id: string): Promise<void> {
  const row = await lockSubscription(ctx, id);
  if (!row) return;
  const sub: Obj = structuredClone(row.data);
  const now = ctx.now();
  if (thresholdCheckAt(sub, now) === null) return;
  const metered = (sub.items.data as Obj[]).filter((it) => isMetered(it.price));
  const usage = await meteredLines(ctx, sub, metered, (it) => ({ start: it.current_period_start, end: now }));
  const amount = usage.reduce((a, l) => a + l.amount, 0);
  const amountHit = (sub.billing_thresholds?.amount_gte ?? null) !== null && amount >= sub.billing_thresholds.amount_gte;
  const usageHit = metered.some((it) => {
    const gte = it.billing_thresholds?.usage_gte ?? null;
    return gte !== null && (usage.find((l) => l.subscription_item === it.id)?.quantity ?? 0) >= gte;
  });
  if (!amountHit && !usageHit) return;
  const lines: BillingLine[] = usage.filter((l) => l.quantity > 0);
  if (sub.billing_thresholds?.reset_billing_cycle_anchor) {
    // A new billing period starts now: the licensed items' unused time is credited, the new period billed.
    const licensed = (sub.items.data as Obj[]).filter((it) => !isMetered(it.price));
    lines.push(...await prorationsFor(ctx, sub, licensed, [], now));
    sub.billing_cycle_anchor = now;
    for (const it of sub.items.data) {
      it.current_period_start = now;
      it.current_period_end = nextBoundaryAfter(now, recurrenceOf(it.price), now);
    }
    lines.push(...await cycleLines(ctx, sub, licensed.map((l) => sub.items.data.find((x: Obj) => x.id === l.id))));
  } else {
    // The usage billed now is not billed again at the period's end.
    for (const it of sub.items.data) if (isMetered(it.price)) it.current_period_start = now;
  }
  const outcome = await invoicing().invoice(ctx, { subscription: sub, billing_reason: 'subscription_threshold', lines, includePending: true, collect: 'auto' });
  sub.latest_invoice = outcome.invoice.id;
  const latest = (await lockSubscription(ctx, id))!;
  await saveSubscription(ctx, latest, { ...structuredClone(latest.data), items: sub.items, billing_cycle_anchor: sub.billing_cycle_anchor, latest_invoice: sub.latest_invoice });
}

registerTimeHandler(THRESHOLD_KIND, { run: async (ctx, item) => { await checkThresholds(ctx, item.key); } });

/** Re-schedules every timer of the subscription from its state. */
export async function syncTimers(ctx: WriteContext, sub: Obj): Promise<void> {
  const clock = sub.test_clock ?? null;
  const renew = nextRenewalAt(sub);
  if (renew !== null) await scheduleTimer(ctx, { kind: 'subscription.renew', key: sub.id, at: renew, testClock: clock });
  else await cancelTimer(ctx, 'subscription.renew', sub.id);
  const willEnd = sub.status === 'trialing' && sub.trial_end !== null ? sub.trial_end - TRIAL_WILL_END_SECONDS : null;
  if (willEnd !== null && willEnd > ctx.now()) {
    await scheduleTimer(ctx, { kind: 'subscription.trial_will_end', key: sub.id, at: willEnd, testClock: clock });
  } else await cancelTimer(ctx, 'subscription.trial_will_end', sub.id);
  if (sub.status === 'incomplete') {
    await scheduleTimer(ctx, { kind: 'subscription.incomplete_expire', key: sub.id, at: sub.created + INCOMPLETE_EXPIRY_SECONDS, testClock: clock });
  } else await cancelTimer(ctx, 'subscription.incomplete_expire', sub.id);
  if (sub.pending_update) {
    await scheduleTimer(ctx, { kind: 'subscription.pending_update_expire', key: sub.id, at: sub.pending_update.expires_at, testClock: clock });
  } else await cancelTimer(ctx, 'subscription.pending_update_expire', sub.id);
  const upcoming = upcomingRenewalAt(sub);
  if (upcoming !== null && upcoming - UPCOMING_RENEWAL_SECONDS > ctx.now()) {
    await scheduleTimer(ctx, { kind: UPCOMING_KIND, key: sub.id, at: upcoming - UPCOMING_RENEWAL_SECONDS, testClock: clock });
  } else await cancelTimer(ctx, UPCOMING_KIND, sub.id);
  // A threshold check is scheduled by usage (and by setting thresholds); only removed here.
  if (thresholdCheckAt(sub, ctx.now()) === null) await cancelTimer(ctx, THRESHOLD_KIND, sub.id);
  const resumes = sub.pause_collection?.resumes_at ?? null;
  if (resumes !== null) await scheduleTimer(ctx, { kind: 'subscription.pause_resume', key: sub.id, at: resumes, testClock: clock });
  else await cancelTimer(ctx, 'subscription.pause_resume', sub.id);
}

/** Saves a subscription (updated event with previous_attributes) and re-schedules its timers. */
export async function saveSubscription(ctx: WriteContext, row: StoredObject, next: Obj, eventType?: string): Promise<Obj> {
  const saved = await saveObject(ctx, subscriptionsDef, row, next, eventType);
  await syncTimers(ctx, saved);
  return saved;
}

export async function lockSubscription(ctx: WriteContext, id: string): Promise<StoredObject | null> {
  const row = await ctx.tx.getForUpdate(ctx.scope, id);
  if (!row || row.type !== 'subscription' || row.deleted) return null;
  return row;
}

/** Status after an invoice was settled (or not) when it was created. */
export function statusAfterFirstInvoice(outcome: InvoiceOutcome, sub: Obj): string {
  if (sub.status === 'trialing') return 'trialing';
  if (outcome.state === 'paid') return 'active';
  if (sub.collection_method === 'send_invoice') return 'active';
  return 'incomplete';
}

/** Cancels now (at ctx.now()): status canceled, ended_at, customer.subscription.deleted. */
export async function cancelNow(ctx: WriteContext, row: StoredObject, details: Obj | null, opts: { invoiceNow?: boolean; prorate?: boolean; reason?: string; fromSchedule?: boolean } = {}): Promise<Obj> {
  const now = ctx.now();
  const sub = structuredClone(row.data);
  if (opts.prorate) {
    const lines = await prorationsFor(ctx, sub, sub.items.data, [], now);
    for (const l of lines) await invoicing().pendingItem(ctx, sub, l);
  }
  if (opts.invoiceNow) {
    const metered = await meteredLines(ctx, sub, sub.items.data, (it) => ({ start: it.current_period_start, end: now }));
    const outcome = await invoicing().invoice(ctx, { subscription: sub, billing_reason: 'subscription_cycle' as BillingReason, lines: metered, includePending: true, collect: 'now' });
    sub.latest_invoice = outcome.invoice.id;
  }
  sub.status = 'canceled';
  sub.canceled_at = sub.canceled_at ?? now;
  sub.ended_at = now;
  sub.cancellation_details = { comment: null, feedback: null, ...(details ?? {}), reason: opts.reason ?? 'cancellation_requested' };
  const data = canonicalize(sub);
  await ctx.tx.update(ctx.scope, { id: row.id, version: row.version, data, index: indexEntries(subscriptionsDef, data) });
  await emitEvent(ctx, 'customer.subscription.deleted', data);
  await syncTimers(ctx, data);
  // A subscription canceled outside its schedule (a request, cancel_at, dunning) ends the schedule.
  if (data.schedule && !opts.fromSchedule && scheduleCancelHook) await scheduleCancelHook(ctx, data);
  return data;
}

/** Set by subscription schedules: what a schedule does when its subscription is canceled outside it. */
let scheduleCancelHook: ((ctx: WriteContext, sub: Obj) => Promise<void>) | null = null;
export function setScheduleCancelHook(fn: (ctx: WriteContext, sub: Obj) => Promise<void>): void { scheduleCancelHook = fn; }

/** Rolls every item whose period ended at `at` into its next period; returns the renewed items (after). */
function rollItems(sub: Obj, at: number): { before: Obj[]; after: Obj[] } {
  const before: Obj[] = [];
  const after: Obj[] = [];
  for (const it of sub.items.data) {
    if (it.current_period_end > at) continue;
    before.push({ ...it });
    it.current_period_start = it.current_period_end;
    it.current_period_end = nextBoundaryAfter(sub.billing_cycle_anchor, recurrenceOf(it.price), it.current_period_start);
    after.push(it);
  }
  return { before, after };
}

/** Drops discounts that ended (repeating coupons past their end). */
async function expireDiscounts(ctx: WriteContext, sub: Obj, at: number): Promise<void> {
  const keep: string[] = [];
  for (const id of sub.discounts as string[]) {
    const d = (await ctx.db.get(ctx.scope, id))?.data;
    if (!d || (d.end !== null && d.end <= at)) continue;
    keep.push(id);
  }
  sub.discounts = keep;
}

/** A `once` coupon applies to one invoice: after an invoice with something to discount, it leaves the subscription. */
export async function dropOnceDiscounts(ctx: ReadContext, sub: Obj, invoice: Obj): Promise<void> {
  if (!(invoice.subtotal > 0)) return;
  const keep: string[] = [];
  for (const id of sub.discounts as string[]) {
    const d = (await ctx.db.get(ctx.scope, id))?.data;
    const coupon = d ? (await ctx.db.get(ctx.scope, d.source.coupon))?.data : null;
    if (coupon?.duration === 'once') continue;
    keep.push(id);
  }
  sub.discounts = keep;
}

/** Set by subscription schedules: a phase transition due at the renewal's moment runs first. */
let phaseHook: ((ctx: WriteContext, sub: Obj) => Promise<void>) | null = null;
export function setPhaseHook(fn: (ctx: WriteContext, sub: Obj) => Promise<void>): void { phaseHook = fn; }

/** The renewal: trial end, period renewals, cancel_at, at ctx.now(). */
async function renew(ctx: WriteContext, id: string): Promise<void> {
  let row = await lockSubscription(ctx, id);
  if (!row) return;
  if (row.data.schedule && phaseHook) {
    await phaseHook(ctx, row.data);
    row = await lockSubscription(ctx, id);
    if (!row) return;
  }
  const at = ctx.now();
  const sub: Obj = structuredClone(row.data);
  if (nextRenewalAt(sub) !== at) { await syncTimers(ctx, sub); return; }
  if (sub.cancel_at !== null && sub.cancel_at <= at) {
    const endsWithPeriod = sub.items.data.some((it: Obj) => it.current_period_end === sub.cancel_at);
    // A cancel_at that falls at a period end bills the closed period's usage; mid-period it prorates.
    await cancelNow(ctx, row, sub.cancellation_details, { invoiceNow: endsWithPeriod && sub.items.data.some((it: Obj) => isMetered(it.price)), prorate: !endsWithPeriod && sub.proration_behavior_on_cancel !== 'none' });
    return;
  }
  const wasTrialing = sub.status === 'trialing';
  const closed = structuredClone(sub.items.data) as Obj[];
  const { after } = rollItems(sub, at);
  if (wasTrialing && sub.trial_end !== null && sub.trial_end <= at) {
    const missingPm = !sub.default_payment_method && !(await customerDefaultPaymentMethod(ctx, sub.customer));
    const behavior = sub.trial_settings?.end_behavior?.missing_payment_method ?? 'create_invoice';
    if (missingPm && behavior === 'cancel' && sub.collection_method === 'charge_automatically') {
      const saved = await saveSubscription(ctx, row, sub);
      const latest = (await ctx.tx.getForUpdate(ctx.scope, id))!;
      await cancelNow(ctx, latest, null, { reason: 'cancellation_requested' });
      void saved;
      return;
    }
    if (missingPm && behavior === 'pause' && sub.collection_method === 'charge_automatically') {
      sub.status = 'paused';
      sub.status_details = { paused: { subscription: { type: 'trial_end_without_payment_method' }, transitioned_at: at, type: 'subscription' } };
      const saved = await saveSubscription(ctx, row, sub);
      await emitEvent(ctx, 'customer.subscription.paused', saved);
      return;
    }
    sub.status = 'active';
  }
  await expireDiscounts(ctx, sub, at);
  const metered = wasTrialing ? [] : await meteredLines(ctx, sub, closed.filter((c) => after.some((a) => a.id === c.id)), (it) => ({ start: it.current_period_start, end: it.current_period_end }));
  const lines = [...metered, ...(await cycleLines(ctx, sub, after))];
  const outcome = await invoicing().invoice(ctx, { subscription: sub, billing_reason: 'subscription_cycle', lines, includePending: true, collect: 'auto' });
  sub.latest_invoice = outcome.invoice.id;
  await dropOnceDiscounts(ctx, sub, outcome.invoice);
  await saveSubscription(ctx, row, sub);
}

export async function customerDefaultPaymentMethod(ctx: ReadContext, customerId: string): Promise<string | null> {
  const c = (await ctx.db.get(ctx.scope, customerId))?.data;
  return c?.invoice_settings?.default_payment_method ?? c?.default_source ?? null;
}

registerTimeHandler('subscription.renew', { run: async (ctx, item) => { await renew(ctx, item.key); } });

registerTimeHandler('subscription.trial_will_end', { run: async (ctx, item) => {
  const row = await lockSubscription(ctx, item.key);
  if (!row || row.data.status !== 'trialing') return;
  await emitEvent(ctx, 'customer.subscription.trial_will_end', row.data);
} });

registerTimeHandler('subscription.incomplete_expire', { run: async (ctx, item) => {
  const row = await lockSubscription(ctx, item.key);
  if (!row || row.data.status !== 'incomplete') return;
  const sub = structuredClone(row.data);
  if (sub.latest_invoice) await invoicing().voidInvoice(ctx, sub.latest_invoice);
  const latest = (await ctx.tx.getForUpdate(ctx.scope, item.key))!;
  const next = { ...structuredClone(latest.data), status: 'incomplete_expired', ended_at: ctx.now() };
  await saveSubscription(ctx, latest, next);
} });

// A pending update (payment_behavior=pending_if_incomplete) not paid for in 23 hours is dropped.
registerTimeHandler('subscription.pending_update_expire', { run: async (ctx, item) => {
  const row = await lockSubscription(ctx, item.key);
  if (!row || !row.data.pending_update || row.data.pending_update.expires_at > ctx.now()) return;
  const saved = await saveSubscription(ctx, row, { ...structuredClone(row.data), pending_update: null });
  await emitEvent(ctx, 'customer.subscription.pending_update_expired', saved);
} });

/** Applies a paid pending update: its items (and anchor, trial end) become the subscription's. */
function applyPendingUpdate(sub: Obj): void {
  const u = sub.pending_update;
  if (u.subscription_items) sub.items = { ...sub.items, data: u.subscription_items, total_count: u.subscription_items.length };
  if (u.billing_cycle_anchor !== null) sub.billing_cycle_anchor = u.billing_cycle_anchor;
  if (u.trial_end !== null) sub.trial_end = u.trial_end;
  sub.pending_update = null;
}

registerTimeHandler('subscription.pause_resume', { run: async (ctx, item) => {
  const row = await lockSubscription(ctx, item.key);
  if (!row || !row.data.pause_collection || row.data.pause_collection.resumes_at > ctx.now()) return;
  await saveSubscription(ctx, row, { ...structuredClone(row.data), pause_collection: null });
} });

// ---- Invoice settlements

onSubscriptionInvoice(async (ctx, n) => {
  const subId = n.invoice.parent?.subscription_details?.subscription ?? n.invoice.subscription ?? null;
  if (!subId) return;
  const row = await lockSubscription(ctx, subId);
  if (!row) return;
  const sub = structuredClone(row.data);
  const isLatest = sub.latest_invoice === n.invoice.id;
  switch (n.type) {
    case 'paid':
      if (sub.pending_update && isLatest) {
        applyPendingUpdate(sub);
        if (['past_due', 'unpaid'].includes(sub.status)) sub.status = 'active';
        const saved = await saveSubscription(ctx, row, sub);
        await emitEvent(ctx, 'customer.subscription.pending_update_applied', saved);
        return;
      }
      if (['incomplete', 'past_due', 'unpaid'].includes(sub.status) && isLatest) sub.status = 'active';
      else return;
      break;
    case 'payment_failed':
    case 'action_required':
      if (sub.status === 'active' && isLatest && n.invoice.billing_reason !== 'subscription_create') sub.status = 'past_due';
      else return;
      break;
    case 'past_due_date':
      // send_invoice: "becomes past_due when its invoice is not paid by the due date".
      if (sub.status === 'active' && sub.collection_method === 'send_invoice') sub.status = 'past_due';
      else return;
      break;
    case 'past_due_limit':
      // send_invoice past due for the configured days: canceled or unpaid ("Manage invoices sent to customers").
      if (!['active', 'past_due'].includes(sub.status) || sub.collection_method !== 'send_invoice') return;
      if (n.action === 'cancel') { await cancelNow(ctx, row, null, { reason: 'payment_failed' }); return; }
      if (n.action !== 'unpaid') return;
      sub.status = 'unpaid';
      break;
    case 'final_attempt_failed':
      if (!['active', 'past_due'].includes(sub.status) || !isLatest) return;
      if (finalFailure === 'cancel') { await cancelNow(ctx, row, null, { reason: 'payment_failed' }); return; }
      sub.status = finalFailure === 'unpaid' ? 'unpaid' : 'past_due';
      break;
    default:
      return;
  }
  await saveSubscription(ctx, row, sub);
});

export { boundary };
