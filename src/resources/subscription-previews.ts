// Subscription previews for POST /v1/invoices/create_preview (the invoices resource's preview
// extension hook): `subscription` with optional `subscription_details` (items, proration_date,
// proration_behavior) previews the subscription's next invoice: the prorations of the proposed
// change, the pending invoice items, and the next period of the (changed) items, without
// writing anything. Other previews fall through to the invoices resource.
import { invalidRequest } from '../api/errors.js';
import type { Params } from '../api/params.js';
import type { WriteContext } from '../api/context.js';
import { createInvoice } from '../engine/billing/invoices.js';
import { nextBoundaryAfter } from '../engine/billing/periods.js';
import { cycleLines, prorationsFor, recurrenceOf, upcomingRenewalAt, UPCOMING_KIND } from '../engine/billing/subscriptions.js';
import { registerTimeHandler } from '../engine/scheduler.js';
import { emitEvent } from '../events/events.js';
import type { BillingLine } from '../engine/billing/subscription-invoicing.js';
import type { Obj } from './define.js';
import { registerPreviewExtension } from './invoices.js';
import { missingReference } from './prices.js';
import { applyItemChanges, customerTime } from './subscriptions.js';

registerPreviewExtension(async (outer: WriteContext, p: Params) => {
  if (!p.subscription) return null;
  const row = await outer.db.get(outer.scope, p.subscription);
  if (!row || row.type !== 'subscription' || row.deleted) throw missingReference('subscription', p.subscription, 'subscription');
  return previewNextInvoice(outer, row.data, p.subscription_details ?? {});
});

/**
 * The subscription's next invoice as its renewal would bill it (with `details` changes and their
 * prorations applied), without writing anything: an invoice object with no id.
 */
export async function previewNextInvoice(outer: WriteContext, current: Obj, d: Params): Promise<Obj> {
  const ctx = await customerTime(outer, current.customer);
  const sub: Obj = structuredClone(current);
  if (['canceled', 'incomplete_expired'].includes(sub.status)) {
    throw invalidRequest('No upcoming invoices for canceled subscriptions.', 'subscription');
  }
  const at: number = d.proration_date ?? ctx.now();
  const lines: BillingLine[] = [];
  if (d.items !== undefined) {
    if (d.items.some((i: Params) => i.price_data)) throw invalidRequest('Previews take existing prices (`price`), not `price_data`.', 'subscription_details[items]');
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
    customer: sub.customer, subscription: sub.id, billing_reason: 'upcoming', currency: sub.currency, lines: lines.map((l) => ({
      amount: l.amount, currency: sub.currency, description: l.description, period: l.period, price: l.price, quantity: l.quantity,
      proration: l.proration, subscription: sub.id, subscription_item: l.subscription_item, discountable: l.amount >= 0,
    })),
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
