// Customers' includable fields (`expand[]=subscriptions`, `sources`, `tax_ids`, `cash_balance`,
// `tax`): expandable, never returned unless expanded, and computed when expanded rather than
// stored (ResourceDef.virtual), so they cost nothing on ordinary requests.
import type { VirtualField } from '../api/expand.js';

/**
 * A list nested under the customer, as expanding it returns: the objects of `type` indexed by
 * `customer`, newest first, first page of 10, with total_count. Sources, subscriptions and tax
 * ids arrive with later issues (index them by `customer` and they show up here).
 */
function nestedList(type: string, suffix: string): VirtualField {
  return async (ctx, c) => {
    const rows = await ctx.db.scan(ctx.scope, { type, index: { field: 'customer', value: c.id }, direction: 'older', limit: 1000 });
    return { object: 'list', data: rows.slice(0, 10).map((r) => r.data), has_more: rows.length > 10, total_count: rows.length, url: `/v1/customers/${c.id}/${suffix}` };
  };
}

export const customerIncludables: Readonly<Record<string, VirtualField>> = {
  sources: nestedList('card', 'sources'), // card sources (src/resources/tokens.ts) are stored as type card
  subscriptions: nestedList('subscription', 'subscriptions'),
  tax_ids: nestedList('tax_id', 'tax_ids'),
  // No cash balance has been funded: Stripe's object for that state.
  cash_balance: async (ctx, c) => ({
    object: 'cash_balance', available: null, customer: c.id, customer_account: null, livemode: ctx.scope.livemode,
    settings: { reconciliation_mode: 'automatic', using_merchant_default: true },
  }),
  // Likely values for an account that collects no tax: the location comes from the addresses.
  tax: async (_ctx, c) => {
    const country = c.address?.country ?? c.shipping?.address?.country ?? null;
    const source = c.address?.country ? 'billing_address' : 'shipping_destination';
    const state = (c.address?.country ? c.address?.state : c.shipping?.address?.state) ?? null;
    return {
      automatic_tax: country ? 'not_collecting' : 'unrecognized_location',
      ip_address: null,
      location: country ? { country, source, state } : null,
      provider: 'stripe',
    };
  },
};
