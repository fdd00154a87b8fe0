// The subscriptions engine's view of invoicing: a thin adapter over the invoices engine
// (src/engine/billing/invoices.ts, built on the `invoices` branch). Subscriptions describe what
// to bill (lines with periods, the billing reason, whether to collect now); the invoices
// engine owns invoices, invoice items, totals, discounts, finalization, payment and dunning.
// Keeping the dependency behind this one module means the subscriptions code never reaches
// into invoice internals, and a change of the invoices API is absorbed here.
import type { WriteContext } from '../../api/context.js';
import type { StripeError } from '../../api/errors.js';

export type Obj = Record<string, any>;

/** One line a subscription bills. */
export interface BillingLine {
  price: Obj;
  quantity: number;
  /** Minor units, before discounts and taxes; negative for credits. */
  amount: number;
  description: string;
  period: { start: number; end: number };
  proration: boolean;
  subscription_item: string | null;
  /** Stripe's proration_details.credited_items for credits. */
  credited_items?: { invoice: string; invoice_line_items: string[] } | null;
}

export type BillingReason = 'subscription_create' | 'subscription_cycle' | 'subscription_update' | 'subscription_threshold';

export interface InvoiceRequest {
  subscription: Obj;
  billing_reason: BillingReason;
  lines: BillingLine[];
  /** Pull the customer's pending invoice items (of this subscription) into the invoice. */
  includePending: boolean;
  /**
   * 'now': finalize and attempt payment in this transaction (first invoices, always_invoice);
   * 'auto': Stripe's one-hour draft period, then finalize and pay (renewals);
   * 'none': finalize, do not attempt payment (default_incomplete).
   */
  collect: 'now' | 'auto' | 'none';
}

export interface InvoiceOutcome {
  invoice: Obj;
  /** paid (incl. nothing due), open (unpaid: send_invoice, failed, requires action, not attempted), draft. */
  state: 'paid' | 'open' | 'draft';
  /** The attempt failed with this error (decline), when one was made. */
  error?: StripeError | null;
  requiresAction?: boolean;
}

/** Callbacks from the invoices engine about a subscription's invoices. */
export interface InvoiceNotice {
  type: 'paid' | 'payment_failed' | 'action_required' | 'final_attempt_failed' | 'voided' | 'uncollectible' | 'past_due_date' | 'past_due_limit';
  invoice: Obj;
  /** past_due_limit: the "invoices sent to customers" setting's action. */
  action?: 'cancel' | 'unpaid';
}

export interface SubscriptionInvoicing {
  invoice(ctx: WriteContext, req: InvoiceRequest): Promise<InvoiceOutcome>;
  /** Adds a pending invoice item for the subscription (a proration billed on the next invoice). */
  pendingItem(ctx: WriteContext, subscription: Obj, line: BillingLine): Promise<Obj>;
  /** Voids an open invoice (incomplete_expired). */
  voidInvoice(ctx: WriteContext, invoiceId: string): Promise<void>;
  /** What was billed for a subscription item's current price and period (flexible credits), or null. */
  billedFor?(ctx: WriteContext, subscription: Obj, item: Obj): Promise<{ amount: number; start: number; end: number } | null>;
}

let impl: SubscriptionInvoicing | null = null;
const listeners: Array<(ctx: WriteContext, n: InvoiceNotice) => Promise<void>> = [];

/** Installed by the invoices adapter module at load. */
export function setSubscriptionInvoicing(i: SubscriptionInvoicing): void { impl = i; }

export function invoicing(): SubscriptionInvoicing {
  if (!impl) throw new Error('subscriptions: no invoices engine installed');
  return impl;
}

export function hasInvoicing(): boolean { return impl !== null; }

export function onSubscriptionInvoice(fn: (ctx: WriteContext, n: InvoiceNotice) => Promise<void>): void { listeners.push(fn); }

export async function notifySubscriptionInvoice(ctx: WriteContext, n: InvoiceNotice): Promise<void> {
  for (const fn of listeners) await fn(ctx, n);
}
