// The subscriptions engine's adapters onto the invoices engine (src/engine/billing/invoices.ts)
// and the meters engine (src/engine/billing/usage.ts): installs the SubscriptionInvoicing the
// subscriptions code calls, turns the invoices engine's listener callbacks into subscription
// notices, and gives metered prices their usage. Importing this module wires them up.

import { StripeError } from '../../api/errors.js';
import type { WriteContext } from '../../api/context.js';
import {
  createInvoice, finalizeInvoice, loadInvoice, loadLines, markUncollectible, payInvoice, registerInvoiceListener, voidInvoice, type LineInput,
} from './invoices.js';
import { notifySubscriptionInvoice, setSubscriptionInvoicing, type BillingLine, type Obj } from './subscription-invoicing.js';
import { setUsageFunction } from './subscriptions.js';
import { meteredUsage } from './usage.js';
import { createPendingInvoiceItem } from '../../resources/invoice-items.js';

setUsageFunction((ctx, meter, customer, start, end) => meteredUsage(ctx, { meter, customer, start, end }));

/** A subscription's billing line as the invoices engine takes it (renewals, prorations, previews). */
export function lineInput(sub: Obj, l: BillingLine): LineInput {
  return {
    amount: l.amount, currency: sub.currency, description: l.description, period: l.period, price: l.price,
    quantity: l.quantity, proration: l.proration, proration_details: { credited_items: l.credited_items ?? null },
    subscription: sub.id, subscription_item: l.subscription_item, discountable: l.amount >= 0,
    tax_rates: l.subscription_item ? (sub.items.data.find((it: Obj) => it.id === l.subscription_item)?.tax_rates ?? []).map((r: Obj) => r.id) : [],
  };
}

setSubscriptionInvoicing({
  async invoice(ctx, req) {
    const sub = req.subscription;
    const periods = req.lines.filter((l) => !l.proration && l.subscription_item).map((l) => l.period);
    const created = await createInvoice(ctx, {
      customer: sub.customer, subscription: sub.id, billing_reason: req.billing_reason, currency: sub.currency,
      lines: req.lines.map((l) => lineInput(sub, l)),
      collection_method: sub.collection_method, days_until_due: sub.days_until_due,
      default_payment_method: sub.default_payment_method, discounts: sub.discounts,
      default_tax_rates: (sub.default_tax_rates ?? []).map((r: Obj) => r.id),
      description: sub.description,
      period_start: periods.length ? Math.min(...periods.map((p) => p.start)) : ctx.now(),
      period_end: periods.length ? Math.max(...periods.map((p) => p.end)) : ctx.now(),
      auto_advance: !(sub.pause_collection && req.collect === 'auto'), pull_pending_items: req.includePending, subscription_metadata: sub.metadata,
    });
    if (req.collect === 'auto') {
      // Paused collection (pause_collection.behavior): keep_as_draft leaves the renewal's invoice a
      // draft; mark_uncollectible and void finalize it and settle it that way, with no payment.
      const behavior = sub.pause_collection?.behavior;
      if (behavior === 'mark_uncollectible' || behavior === 'void') {
        await finalizeInvoice(ctx, created.id, { auto_advance: false });
        const settled = behavior === 'void' ? await voidInvoice(ctx, created.id) : await markUncollectible(ctx, created.id);
        return { invoice: settled, state: 'open' };
      }
      return { invoice: created, state: 'draft' };
    }
    let inv = await finalizeInvoice(ctx, created.id, { auto_advance: sub.collection_method === 'send_invoice' ? true : undefined });
    if (inv.status === 'paid') return { invoice: inv, state: 'paid' };
    if (req.collect === 'none' || sub.collection_method === 'send_invoice') return { invoice: inv, state: 'open' };
    try {
      inv = await payInvoice(ctx, inv.id, { off_session: false });
    } catch (e) {
      if (!(e instanceof StripeError)) throw e;
      const latest = (await loadInvoice(ctx, inv.id)).data;
      if (e.commit) return { invoice: latest, state: 'open', error: e, requiresAction: e.fields.code === 'authentication_required' };
      throw e; // no payment method: Stripe refuses the request
    }
    const requiresAction = inv.status === 'open';
    return { invoice: inv, state: inv.status === 'paid' ? 'paid' : 'open', requiresAction };
  },

  async pendingItem(ctx: WriteContext, sub, l) {
    return createPendingInvoiceItem(ctx, sub.customer, lineInput(sub, l));
  },

  // billing_mode flexible credits what was billed: the item's last non-proration line, net of its discounts.
  async billedFor(ctx, sub, item) {
    const invs = await ctx.db.scan(ctx.scope, { type: 'invoice', index: { field: 'subscription', value: sub.id }, direction: 'older', limit: 24 });
    for (const inv of invs) {
      if (inv.deleted || ['draft', 'void'].includes(inv.data.status)) continue;
      for (const l of await loadLines(ctx, inv.id)) {
        const d = l.data.parent?.subscription_item_details;
        if (!d || d.subscription_item !== item.id || d.proration) continue;
        // Only a debit for the item's current price and period counts; otherwise the list price does.
        if (l.data.pricing?.price_details?.price !== item.price.id || l.data.period.end !== item.current_period_end) return null;
        const discounts = (l.data.discount_amounts ?? []).reduce((a: number, x: Obj) => a + x.amount, 0);
        return { amount: l.data.amount - discounts, start: l.data.period.start, end: l.data.period.end };
      }
    }
    return null;
  },

  async voidInvoice(ctx, id) {
    const inv = (await loadInvoice(ctx, id)).data;
    if (inv.status === 'open' || inv.status === 'uncollectible') await voidInvoice(ctx, id);
  },
});

registerInvoiceListener({
  paid: (ctx, invoice) => notifySubscriptionInvoice(ctx, { type: 'paid', invoice }),
  async paymentFailed(ctx, invoice, info) {
    await notifySubscriptionInvoice(ctx, { type: 'payment_failed', invoice });
    if (info.final) await notifySubscriptionInvoice(ctx, { type: 'final_attempt_failed', invoice });
  },
  actionRequired: (ctx, invoice) => notifySubscriptionInvoice(ctx, { type: 'action_required', invoice }),
  voided: (ctx, invoice) => notifySubscriptionInvoice(ctx, { type: 'voided', invoice }),
  markedUncollectible: (ctx, invoice) => notifySubscriptionInvoice(ctx, { type: 'uncollectible', invoice }),
  pastDue: (ctx, invoice) => notifySubscriptionInvoice(ctx, { type: 'past_due_date', invoice }),
  pastDueLimit: (ctx, invoice, action) => notifySubscriptionInvoice(ctx, { type: 'past_due_limit', invoice, action }),
});
