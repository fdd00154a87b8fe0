// Subscription previews for POST /v1/invoices/create_preview (the invoices resource's preview
// extension hook). Nothing is written by any of them:
//   - `subscription` with optional `subscription_details` (items, proration_date,
//     proration_behavior) previews the subscription's next invoice: the prorations of the
//     proposed change, the pending invoice items, and the next period of the (changed) items;
//   - `customer` + `subscription_details.items` without `subscription` previews the first
//     invoice of the subscription POST /v1/subscriptions would create (trial, anchor, proration,
//     discounts, tax rates and a `start_date` in the past (backdated) or future (the invoice it
//     will create when it starts));
//   - `schedule` and/or `schedule_details.phases` preview a schedule: a schedule that has not
//     started (or a new one, with `customer`) the first invoice of its first phase; an active one
//     the next invoice of its subscription, billing the phase in effect at that renewal.
// Other previews fall through to the invoices resource.
import { invalidRequest, missingParam } from '../api/errors.js';
import type { Params } from '../api/params.js';
import type { WriteContext } from '../api/context.js';
import { createInvoice } from '../engine/billing/invoices.js';
import { nextBoundaryAfter } from '../engine/billing/periods.js';
import { cycleLines, nextRenewalAt, prorationsFor, recurrenceOf, upcomingRenewalAt, UPCOMING_KIND } from '../engine/billing/subscriptions.js';
import { registerTimeHandler } from '../engine/scheduler.js';
import { emitEvent } from '../events/events.js';
import { lineInput } from '../engine/billing/subscription-invoices-adapter.js';
import type { BillingLine } from '../engine/billing/subscription-invoicing.js';
import type { Obj } from './define.js';
import { registerPreviewExtension } from './invoices.js';
import { missingReference } from './prices.js';
import { applyItemChanges, customerTime, draftSubscription, previewContext, previewDiscounts } from './subscriptions.js';
import { phaseItemChanges, previewPhases } from './subscription-schedules.js';

registerPreviewExtension(async (outer: WriteContext, p: Params) => {
  const forSchedule = p.schedule !== undefined || p.schedule_details !== undefined;
  const forSubscription = p.subscription !== undefined || p.subscription_details !== undefined;
  if (forSchedule && forSubscription) {
    // Stripe's "cannot be used with schedule or schedule_details fields"; wording of the one-of family.
    throw invalidRequest('You may only specify one of these parameters: schedule, schedule_details, subscription, subscription_details.',
      p.schedule !== undefined ? 'schedule' : 'schedule_details');
  }
  if (forSchedule) return previewSchedule(outer, p);
  if (p.subscription) {
    const row = await outer.db.get(outer.scope, p.subscription);
    if (!row || row.type !== 'subscription' || row.deleted) throw missingReference('subscription', p.subscription, 'subscription');
    return previewNextInvoice(outer, row.data, p.subscription_details ?? {});
  }
  if (p.subscription_details?.items !== undefined) {
    if (p.customer === undefined) throw missingParam('customer');
    const d: Params = p.subscription_details;
    const create: Params = { customer: p.customer, items: d.items };
    if (d.billing_cycle_anchor?.type === 'timestamp') create.billing_cycle_anchor = d.billing_cycle_anchor.timestamp;
    for (const k of ['billing_mode', 'cancel_at', 'cancel_at_period_end', 'default_tax_rates', 'metadata', 'proration_behavior', 'trial_end']) {
      if (d[k] !== undefined) create[k] = d[k];
    }
    if (p.discounts !== undefined) create.discounts = p.discounts;
    let at: number | undefined;
    if (d.start_date !== undefined) {
      const now = (await customerTime(outer, p.customer)).now();
      if (d.start_date < now) create.backdate_start_date = d.start_date;
      else if (d.start_date > now) at = d.start_date;
    }
    return previewNewSubscription(outer, create, at);
  }
  return null;
});

/** Every string equal to `id` in `v` replaced by null (a draft subscription's id, which names nothing). */
function forget(v: any, id: string): any {
  if (v === id) return null;
  if (Array.isArray(v)) return v.map((x) => forget(x, id));
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, forget(x, id)]));
  return v;
}

/** The first invoice of the subscription `create` (POST /v1/subscriptions params) would make, at `at` (default: now). */
export async function previewNewSubscription(outer: WriteContext, create: Params, at?: number): Promise<Obj> {
  const customer = await outer.db.get(outer.scope, create.customer);
  if (!customer || customer.type !== 'customer' || customer.deleted) throw missingReference('customer', create.customer, 'customer');
  const ctx = previewContext(await customerTime(outer, create.customer), at);
  const { sub, lines } = await draftSubscription(ctx, create);
  const objects = new Map(previewDiscounts(ctx).map((d) => [d.id, d]));
  const periods = lines.filter((l) => !l.proration && l.subscription_item).map((l) => l.period);
  const result = await createInvoice(ctx, {
    customer: sub.customer, subscription: sub.id, billing_reason: 'subscription_create', currency: sub.currency,
    lines: lines.map((l) => lineInput(sub, l)),
    collection_method: sub.collection_method, days_until_due: sub.days_until_due, default_payment_method: sub.default_payment_method,
    discounts: (sub.discounts as string[]).map((id) => objects.get(id) ?? id),
    default_tax_rates: (sub.default_tax_rates ?? []).map((r: Obj) => r.id), description: sub.description, subscription_metadata: sub.metadata,
    period_start: periods.length ? Math.min(...periods.map((x) => x.start)) : ctx.now(),
    period_end: periods.length ? Math.max(...periods.map((x) => x.end)) : ctx.now(),
    pull_pending_items: true, preview: true,
  } as any) as unknown as { invoice: Obj };
  const invoice = forget(result.invoice, sub.id);
  return { ...invoice, lines: { ...invoice.lines, url: '/v1/invoices/upcoming/lines' } };
}

async function previewSchedule(outer: WriteContext, p: Params): Promise<Obj> {
  let schedule: Obj | null = null;
  if (p.schedule !== undefined) {
    const row = await outer.db.get(outer.scope, p.schedule);
    if (!row || row.type !== 'subscription_schedule' || row.deleted) throw missingReference('subscription_schedule', p.schedule, 'schedule');
    schedule = row.data;
    if (!['active', 'not_started'].includes(schedule.status)) {
      throw invalidRequest(`No upcoming invoices for a subscription schedule in the \`${schedule.status}\` status.`, 'schedule');
    }
  }
  const customerId: string | undefined = schedule?.customer ?? p.customer;
  if (customerId === undefined) throw missingParam('customer');
  const base = await customerTime(outer, customerId);
  const now = base.now();
  let phases: Obj[] = schedule?.phases ?? [];
  const d: Params | undefined = p.schedule_details;
  if (d?.phases !== undefined) {
    const first = d.phases[0]?.start_date;
    const start = schedule?.status === 'active'
      ? (schedule.phases.find((x: Obj) => x.start_date <= now && now < x.end_date) ?? schedule.phases[0]).start_date
      : first === undefined || first === 'now' ? (schedule?.phases[0].start_date ?? now) : first;
    phases = await previewPhases(previewContext(base), d.phases, start, 'schedule_details[phases]');
  }
  if (!phases.length) throw missingParam('schedule_details[phases]');
  const endBehavior: string = d?.end_behavior ?? schedule?.end_behavior ?? 'release';

  if (schedule?.status === 'active' && schedule.subscription) {
    const row = await outer.db.get(outer.scope, schedule.subscription);
    if (!row || row.deleted) throw missingReference('subscription', schedule.subscription, 'schedule');
    const sub = row.data;
    const at = nextRenewalAt(sub);
    const last = phases[phases.length - 1];
    if (at === null || (at >= last.end_date && endBehavior === 'cancel')) {
      throw invalidRequest('No upcoming invoices for canceled subscriptions.', 'schedule');
    }
    const phase = phases.find((x) => x.start_date <= at && at < x.end_date) ?? last;
    return previewNextInvoice(outer, sub, { items: phaseItemChanges(sub, phase), proration_behavior: 'none' });
  }
  // Not started (or new): the first invoice of its first phase, when that phase starts.
  const phase = phases[0];
  const create: Params = {
    customer: customerId,
    items: phase.items.map((it: Obj) => ({ price: it.price, ...(it.quantity !== null ? { quantity: it.quantity } : {}), metadata: it.metadata, tax_rates: (it.tax_rates ?? []).map((r: Obj) => r.id) })),
    ...(phase.trial_end ? { trial_end: phase.trial_end } : {}),
    ...(phase.collection_method ? { collection_method: phase.collection_method } : {}),
    ...(phase.default_payment_method ? { default_payment_method: phase.default_payment_method } : {}),
    ...(phase.default_tax_rates?.length ? { default_tax_rates: phase.default_tax_rates.map((r: Obj) => r.id) } : {}),
    ...(phase.discounts?.length ? { discounts: phase.discounts.map((x: Obj) => (x.promotion_code ? { promotion_code: x.promotion_code } : { coupon: x.coupon })) } : {}),
  };
  return previewNewSubscription(outer, create, phase.start_date > now ? phase.start_date : undefined);
}

/**
 * The subscription's next invoice as its renewal would bill it (with `details` changes and their
 * prorations applied), without writing anything: an invoice object with no id.
 */
export async function previewNextInvoice(outer: WriteContext, current: Obj, d: Params): Promise<Obj> {
  const ctx = previewContext(await customerTime(outer, current.customer));
  const sub: Obj = structuredClone(current);
  if (['canceled', 'incomplete_expired'].includes(sub.status)) {
    throw invalidRequest('No upcoming invoices for canceled subscriptions.', 'subscription');
  }
  const at: number = d.proration_date ?? ctx.now();
  const lines: BillingLine[] = [];
  if (d.items !== undefined) {
    const before = structuredClone(sub.items.data) as Obj[];
    await applyItemChanges(ctx, sub, d.items, at);
    if ((d.proration_behavior ?? 'create_prorations') !== 'none') lines.push(...await prorationsFor(ctx, sub, before, sub.items.data, at));
  }
  // The next period of every item (as the renewal would bill it).
  for (const it of sub.items.data) {
    it.current_period_start = it.current_period_end;
    it.current_period_end = nextBoundaryAfter(sub.billing_cycle_anchor, recurrenceOf(it.price), it.current_period_start);
  }
  lines.push(...await cycleLines(ctx, sub, sub.items.data));
  const result = await createInvoice(ctx, {
    customer: sub.customer, subscription: sub.id, billing_reason: 'upcoming', currency: sub.currency, lines: lines.map((l) => lineInput(sub, l)),
    collection_method: sub.collection_method, days_until_due: sub.days_until_due, discounts: sub.discounts,
    default_tax_rates: (sub.default_tax_rates ?? []).map((r: Obj) => r.id), subscription_metadata: sub.metadata,
    period_start: Math.min(...sub.items.data.map((it: Obj) => it.current_period_start)),
    period_end: Math.max(...sub.items.data.map((it: Obj) => it.current_period_end)),
    pull_pending_items: true, preview: true,
  }) as unknown as { invoice: Obj };
  return { ...result.invoice, lines: { ...result.invoice.lines, url: '/v1/invoices/upcoming/lines' } };
}

// invoice.upcoming: X days before a renewal that will create an automatically charged invoice
// (scheduled by syncTimers in src/engine/billing/subscriptions.ts), the invoice it will create.
registerTimeHandler(UPCOMING_KIND, {
  async run(ctx, item) {
    const row = await ctx.db.get(ctx.scope, item.key);
    if (!row || row.type !== 'subscription' || row.deleted || !upcomingRenewalAt(row.data)) return;
    await emitEvent(ctx, 'invoice.upcoming', await previewNextInvoice(ctx, row.data, {}));
  },
});
