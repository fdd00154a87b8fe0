// Refunds — https://docs.stripe.com/api/refunds
import { emitEvent } from '../events/events.js';
import { canonicalize } from '../api/render.js';
import type { WriteContext } from '../api/context.js';
import { charges, eventCharge } from './charges.js';
import { indexEntries } from './define.js';

/** Canceling an uncaptured PaymentIntent releases the authorization: the charge is refunded in full. */
export async function releaseAuthorization(ctx: WriteContext, chargeId: string): Promise<void> {
  const row = (await ctx.tx.getForUpdate(ctx.scope, chargeId))!;
  const ch = canonicalize({ ...row.data, amount_refunded: row.data.amount, refunded: true });
  await ctx.tx.update(ctx.scope, { id: row.id, version: row.version, data: ch, index: indexEntries(charges, ch) });
  await emitEvent(ctx, 'charge.refunded', eventCharge(ch));
}
