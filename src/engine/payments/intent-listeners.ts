// "A PaymentIntent succeeded / failed" hooks: the payments code calls notifyPaymentIntentSucceeded at the
// one moment an intent's status becomes `succeeded` (card attempt, 3-D Secure completion,
// capture, bank debit settlement), inside the transaction that writes it. Other engines
// (billing: an invoice's PaymentIntent confirmed with Stripe.js or on the 3-D Secure page)
// register here, so payments never imports them.
import type { WriteContext } from '../../api/context.js';

export interface PaymentIntentListener {
  succeeded?(ctx: WriteContext, paymentIntent: Record<string, any>): Promise<void> | void;
  /** An attempt failed (payment_intent.payment_failed: a decline, failed 3-D Secure, a bank debit failing). */
  failed?(ctx: WriteContext, paymentIntent: Record<string, any>): Promise<void> | void;
}

const listeners: PaymentIntentListener[] = [];

/** Registers a listener (at module load); returns a function removing it. */
export function registerPaymentIntentListener(l: PaymentIntentListener): () => void {
  listeners.push(l);
  return () => { const i = listeners.indexOf(l); if (i >= 0) listeners.splice(i, 1); };
}

export async function notifyPaymentIntentSucceeded(ctx: WriteContext, paymentIntent: Record<string, any>): Promise<void> {
  for (const l of [...listeners]) await l.succeeded?.(ctx, paymentIntent);
}

/** Called where payment_intent.payment_failed is written, inside that transaction. */
export async function notifyPaymentIntentFailed(ctx: WriteContext, paymentIntent: Record<string, any>): Promise<void> {
  for (const l of [...listeners]) await l.failed?.(ctx, paymentIntent);
}
