// Reviews — https://docs.stripe.com/api/radar/reviews — opened by Radar for elevated-risk
// payments (pm_card_riskLevelElevated: outcome manual_review), review.opened; approve closes
// it (review.closed), as do a refund (refunded / refunded_as_fraud) and a dispute (disputed).
import { invalidRequest, noSuchResource } from '../api/errors.js';
import { canonicalize } from '../api/render.js';
import type { WriteContext } from '../api/context.js';
import { emitEvent } from '../events/events.js';
import type { StoredObject } from '../store/store.js';
import { indexEntries, insertObject, type Obj, type ResourceDef } from './define.js';

/** Opens a review of a charge; returns its id. */
export async function openReview(ctx: WriteContext, chargeId: string, paymentIntent: string | null): Promise<string> {
  const review: Obj = {
    id: ctx.services.ids.id('prv'), object: 'review', billing_zip: null, charge: chargeId, closed_reason: null, created: ctx.now(),
    ip_address: null, ip_address_location: null, livemode: ctx.scope.livemode, open: true, opened_reason: 'rule',
    payment_intent: paymentIntent, reason: 'rule', session: null,
  };
  const stored = await insertObject(ctx, reviews, review);
  await emitEvent(ctx, 'review.opened', stored);
  return stored.id;
}

async function close(ctx: WriteContext, row: StoredObject, reason: string): Promise<Obj> {
  const data = canonicalize({ ...row.data, open: false, reason, closed_reason: reason });
  await ctx.tx.update(ctx.scope, { id: row.id, version: row.version, data, index: indexEntries(reviews, data) });
  await emitEvent(ctx, 'review.closed', data);
  return data;
}

/** Radar closes an open review when its charge is refunded or disputed (review.closed). */
export async function closeReview(ctx: WriteContext, id: string, reason: 'refunded' | 'refunded_as_fraud' | 'disputed'): Promise<void> {
  const row = await ctx.tx.getForUpdate(ctx.scope, id);
  if (row?.type === 'review' && row.data.open) await close(ctx, row, reason);
}

export const reviews: ResourceDef = {
  object: 'review',
  prefix: 'prv',
  path: '/v1/reviews',
  index: (r) => (r.open ? [{ field: 'open', value: '1' }] : []),
  operations: () => [
    {
      method: 'POST', path: '/v1/reviews/{id}/approve', write: true,
      handler: async (c, _p, path) => {
        const ctx = c as WriteContext;
        const row = await ctx.tx.getForUpdate(ctx.scope, path.id!);
        if (!row || row.type !== 'review') throw noSuchResource('review', path.id!);
        if (!row.data.open) throw invalidRequest(`This review (${row.id}) is already closed.`);
        return close(ctx, row, 'approved');
      },
    },
  ],
};
