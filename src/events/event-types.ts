// The catalogue of Stripe event types. The full list (what `enabled_events` accepts) is data:
// the enum of `enabled_events[]` in the generated parameter table (src/generated/params.json,
// produced from stripe-node's declarations by `npm run gen:params`). EMITTED lists the types
// Pinstripe actually writes today; each resource family adds its own as it arrives.
import { operationParams } from '../generated/params.js';

let all: readonly string[] | undefined;

/** Every event type Stripe documents, plus `*`, as accepted by `enabled_events`. */
export function allEventTypes(): readonly string[] {
  if (all) return all;
  const schema = operationParams('POST', '/v1/webhook_endpoints')?.params;
  const items = schema?.props?.enabled_events?.items;
  all = items && items.t === 'enum' && items.values ? [...items.values] : ['*'];
  return all;
}

/** Event types Pinstripe emits (README lists these). */
export const EMITTED_EVENT_TYPES: readonly string[] = [
  'charge.captured', 'charge.dispute.closed', 'charge.dispute.created',
  'charge.dispute.funds_reinstated', 'charge.dispute.funds_withdrawn', 'charge.dispute.updated',
  'charge.failed', 'charge.pending', 'charge.refund.updated', 'charge.refunded',
  'charge.succeeded', 'charge.updated', 'customer.created', 'customer.deleted',
  'customer.source.created', 'customer.source.deleted', 'customer.source.updated',
  'customer.subscription.created', 'customer.subscription.deleted', 'customer.subscription.paused',
  'customer.subscription.pending_update_applied', 'customer.subscription.pending_update_expired',
  'customer.subscription.resumed', 'customer.subscription.trial_will_end', 'customer.subscription.updated',
  'customer.updated', 'payment_intent.amount_capturable_updated', 'payment_intent.canceled',
  'payment_intent.created', 'payment_intent.payment_failed', 'payment_intent.processing',
  'payment_intent.requires_action', 'payment_intent.succeeded', 'payment_method.attached',
  'payment_method.detached', 'payment_method.updated', 'payout.canceled', 'payout.created',
  'payout.paid', 'payout.updated', 'price.created', 'price.updated', 'product.created',
  'product.deleted', 'product.updated', 'radar.early_fraud_warning.created', 'refund.created',
  'refund.failed', 'refund.updated', 'review.closed', 'review.opened', 'setup_intent.canceled',
  'setup_intent.created', 'setup_intent.requires_action', 'setup_intent.setup_failed',
  'setup_intent.succeeded', 'subscription_schedule.canceled', 'subscription_schedule.created',
  'subscription_schedule.released', 'subscription_schedule.updated', 'test_helpers.test_clock.advancing', 'test_helpers.test_clock.created',
  'test_helpers.test_clock.deleted', 'test_helpers.test_clock.ready',
  // Invoices, invoice items, credit notes (issue 7).
  'credit_note.created', 'credit_note.updated', 'credit_note.voided', 'invoice.created', 'invoice.deleted',
  'invoice.finalized', 'invoice.marked_uncollectible', 'invoice.paid', 'invoice.payment_action_required',
  'invoice.payment_failed', 'invoice.payment_succeeded', 'invoice.sent', 'invoice.updated', 'invoice.voided',
  'invoice_payment.paid', 'invoiceitem.created', 'invoiceitem.deleted',
  // A send_invoice invoice's due date (src/engine/billing/invoices.ts, due-date timers).
  'invoice.overdue', 'invoice.will_be_due',

  // Payments' timed work, mandates, the billing catalogue and customer discounts.
  'balance.available', 'charge.expired', 'mandate.updated', 'invoice.upcoming',
  'payout.failed', 'radar.early_fraud_warning.updated',
  'billing.meter.created', 'billing.meter.updated', 'billing.meter.deactivated', 'billing.meter.reactivated',
  'coupon.created', 'coupon.deleted', 'coupon.updated', 'promotion_code.created', 'promotion_code.updated',
  'tax_rate.created', 'tax_rate.updated', 'customer.discount.created', 'customer.discount.deleted', 'customer.discount.updated',
  // How subscription schedules end (subscription-schedules.ts).
  'subscription_schedule.aborted', 'subscription_schedule.completed', 'subscription_schedule.expiring',
];

/** Does an endpoint subscribed to `enabled` receive an event of `type`? */
export function subscribes(enabled: readonly string[], type: string): boolean {
  return enabled.includes('*') || enabled.includes(type);
}
