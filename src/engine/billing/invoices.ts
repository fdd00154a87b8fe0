// The invoices engine: building, totalling, finalizing, paying, voiding invoices, for the
// /v1/invoices routes (src/resources/invoices.ts) and for subscriptions, which create their
// invoices through createInvoice() and react to outcomes through registerInvoiceListener()
// (the engine never imports subscription code).
//
// STABLE API (subscriptions build on it):
//   createInvoice(ctx, CreateInvoiceInput)            → invoice (draft, lines built, totals computed;
//                                                        invoice.created, and for auto_advance an
//                                                        'invoice.finalize' timer one hour later)
//   addInvoiceLines(ctx, invoiceId, LineInput[])       → invoice (draft only)
//   finalizeInvoice(ctx, id, { auto_advance? })         → invoice (open, or paid when nothing is due)
//   payInvoice(ctx, id, PayOptions)                     → invoice (throws the card error on a decline
//                                                        from the API; automatic attempts never throw)
//   attemptInvoicePayment(ctx, id)                      → invoice (an automatic attempt, as the timers run it)
//   (an invoice's PaymentIntent succeeding outside payInvoice, through Stripe.js or the 3-D Secure
//    page, pays the invoice through the payments engine's registerPaymentIntentListener hook)
//   voidInvoice(ctx, id), markUncollectible(ctx, id)    → invoice
//   computeInvoice(ctx, invoice, lines)                 → pure-ish totals (used by previews)
//   registerInvoiceListener({ finalized, paid, paymentFailed(ctx, inv, { final }), actionRequired,
//                             voided, markedUncollectible })   all run inside the transaction
//   configureDunning({ retryDays, finalAction })        the automatic retry schedule
//   createPendingInvoiceItem(ctx, customer, LineInput)  (src/resources/invoice-items.ts) a pending item,
//                                                        e.g. a proration billed on the next invoice
//   registerPreviewExtension(fn)                        (src/resources/invoices.ts) create_preview for subscriptions
//
// State machine: draft → open → paid | uncollectible | void; uncollectible → paid | void.
// Every other transition is refused with a 400 invalid_request_error (messages below).
//
// Time: every function uses ctx.now(). Route handlers pass a context whose now() is the
// customer's test clock time (clockContext); timers run with now() = the timer's `at`.
//
// Totals (per line, then summed), in minor units:
//   line.amount = line.subtotal = quantity × unit amount (inclusive taxes inside it)
//   discounts: the line's own discounts first, then the invoice's discounts on discountable
//     lines, each taken from what the previous ones left (percent_off per line, amount_off
//     spread in proportion over the eligible lines: engine/billing/discounts.ts)
//   net = amount − discounts; inclusive rates: tax = net − round(net / (1 + Σ inclusive %));
//     exclusive rates: round(taxable × rate) where taxable = net − inclusive tax
//   invoice.subtotal = Σ(amount − line-level discounts) ("item discounts already incorporated")
//   subtotal_excluding_tax = subtotal − the inclusive tax those amounts contain
//   total = Σ net + Σ exclusive tax; total_excluding_tax = Σ taxable
//   amount_due: on finalization the customer balance is applied: starting_balance + total;
//     ≥ 0 is due (ending_balance 0); < 0 leaves a credit (ending_balance < 0, nothing due).
//     An amount due below the currency's minimum charge is carried to the customer's balance
//     and the invoice is paid (Stripe: "the invoice is automatically marked paid, and we add the
//     amount due to the customer's credit balance which is applied to the next invoice").
import { StripeError, invalidRequest, noSuchResource } from '../../api/errors.js';
import { canonicalize } from '../../api/render.js';
import type { ReadContext, WriteContext } from '../../api/context.js';
import { emitEvent } from '../../events/events.js';
import type { StoredObject } from '../../store/store.js';
import { couponAppliesTo, couponDiscountAmount, couponDiscountLines } from './discounts.js';
import { minimumAmount } from '../payments/money.js';
import { registerPaymentIntentListener } from '../payments/intent-listeners.js';
import { threeDSNextAction } from '../payments/three-ds.js';
import { cancelTimer, registerTimeHandler, scheduleTimer } from '../scheduler.js';
import { invoiceDocumentUrls } from '../../web/invoice-documents.js';

export type Obj = Record<string, any>;

// ---------------------------------------------------------------------------------------------
// Inputs

export interface LineInput {
  /** quantity × unit amount, minor units (negative for credits such as proration refunds). */
  amount: number;
  currency: string;
  description: string | null;
  period: { start: number; end: number };
  /** A Price id (its product is looked up) or a stored price object. */
  price?: string | Obj | null;
  quantity?: number | null;
  unit_amount_decimal?: string | null;
  proration?: boolean;
  proration_details?: { credited_items: { invoice: string; invoice_line_items: string[] } | null } | null;
  /** Lines of a subscription: its id, and the subscription item for subscription_item_details lines. */
  subscription?: string | null;
  subscription_item?: string | null;
  /** The invoice item the line comes from (parent.type invoice_item_details). */
  invoice_item?: string | null;
  discountable?: boolean;
  /** Discount ids (stored by storeDiscount) or discount objects, applied to this line only. */
  discounts?: Array<string | Obj>;
  /** Tax rate ids; absent or empty: the invoice's default_tax_rates apply. */
  tax_rates?: string[];
  metadata?: Obj;
}

export interface CreateInvoiceInput {
  customer: string;
  subscription?: string | null;
  billing_reason: string;
  lines?: LineInput[];
  currency?: string;
  collection_method?: 'charge_automatically' | 'send_invoice';
  days_until_due?: number | null;
  due_date?: number | null;
  default_payment_method?: string | null;
  default_source?: string | null;
  /** Invoice-level discounts: discount ids or objects; undefined inherits the customer's discount. */
  discounts?: Array<string | Obj>;
  default_tax_rates?: string[];
  description?: string | null;
  footer?: string | null;
  period_start?: number;
  period_end?: number;
  auto_advance?: boolean;
  /** Pull the customer's pending invoice items (those of `subscription`, or with none). */
  pull_pending_items?: boolean;
  metadata?: Obj;
  /** subscription_details.metadata (a subscription's metadata at invoicing time). */
  subscription_metadata?: Obj | null;
  statement_descriptor?: string | null;
  custom_fields?: Obj[] | null;
  number?: string | null;
  /** Build but do not store or emit anything (previews): returns the invoice with its lines. */
  preview?: boolean;
}

export interface PayOptions {
  off_session?: boolean;
  payment_method?: string | null;
  paid_out_of_band?: boolean;
  /** Automatic attempt (timer): failures are recorded and dunning scheduled instead of thrown. */
  automatic?: boolean;
}

// ---------------------------------------------------------------------------------------------
// Listeners (subscriptions react without the engine importing them)

export interface InvoiceListener {
  finalized?(ctx: WriteContext, invoice: Obj): Promise<void> | void;
  paid?(ctx: WriteContext, invoice: Obj): Promise<void> | void;
  paymentFailed?(ctx: WriteContext, invoice: Obj, info: { final: boolean; automatic: boolean }): Promise<void> | void;
  actionRequired?(ctx: WriteContext, invoice: Obj): Promise<void> | void;
  voided?(ctx: WriteContext, invoice: Obj): Promise<void> | void;
  markedUncollectible?(ctx: WriteContext, invoice: Obj): Promise<void> | void;
  /** A send_invoice invoice reached its due_date unpaid (a subscription goes past_due). */
  pastDue?(ctx: WriteContext, invoice: Obj): Promise<void> | void;
  /**
   * A send_invoice invoice has been past due for the configured number of days
   * (configureSendInvoiceDunning): its subscription is canceled or marked unpaid.
   */
  pastDueLimit?(ctx: WriteContext, invoice: Obj, action: 'cancel' | 'unpaid'): Promise<void> | void;
}

const listeners: InvoiceListener[] = [];
/** Registers listeners; returns a function removing them. */
export function registerInvoiceListener(l: InvoiceListener): () => void {
  listeners.push(l);
  return () => { const i = listeners.indexOf(l); if (i >= 0) listeners.splice(i, 1); };
}
async function notify<K extends keyof InvoiceListener>(name: K, ...args: Parameters<NonNullable<InvoiceListener[K]>>): Promise<void> {
  for (const l of [...listeners]) await (l[name] as any)?.(...args);
}

// ---------------------------------------------------------------------------------------------
// Dunning (automatic payment retries)

export interface DunningConfig {
  /** Days after the first failed automatic attempt at which to retry (cumulative). */
  retryDays: number[];
  /** What happens to the invoice after the last retry fails. */
  finalAction: 'none' | 'mark_uncollectible' | 'void';
}

/** Default: 7 retries over two weeks after the first failure (8 attempts), approximating Smart Retries' default. */
export const DEFAULT_RETRY_DAYS = [1, 2, 4, 6, 8, 10, 14];
const dunning: DunningConfig = {
  retryDays: parseRetryDays(process.env.PINSTRIPE_INVOICE_RETRY_DAYS) ?? DEFAULT_RETRY_DAYS,
  finalAction: 'none',
};
function parseRetryDays(v: string | undefined): number[] | undefined {
  if (!v) return undefined;
  const days = v.split(',').map(Number).filter((n) => Number.isFinite(n) && n > 0);
  return days.length ? days : undefined;
}
export function configureDunning(c: Partial<DunningConfig>): DunningConfig {
  if (c.retryDays) dunning.retryDays = [...c.retryDays];
  if (c.finalAction) dunning.finalAction = c.finalAction;
  return { ...dunning, retryDays: [...dunning.retryDays] };
}

// ---------------------------------------------------------------------------------------------
// Due dates (send_invoice)
//
// Stripe emits invoice.will_be_due "X days before" and invoice.overdue "X days after" a
// send_invoice invoice's due date, X being set in the account's automations (the "Invoice due
// date upcoming" trigger); no default is documented. Pinstripe sends invoice.will_be_due 7 days
// before and invoice.overdue 1 day after the due date of every open send_invoice invoice with
// auto_advance (Stripe's automation stops when the invoice is paid, voided or auto_advance turns
// off); PINSTRIPE_INVOICE_WILL_BE_DUE_DAYS / PINSTRIPE_INVOICE_OVERDUE_DAYS (comma-separated
// days, `none` for never) or configureDueDates() set others. At the due date itself an unpaid
// invoice makes its customer delinquent and its subscription past_due.

export interface DueDateConfig {
  /** Days before the due date at which invoice.will_be_due is emitted (one event per entry). */
  willBeDueDays: number[];
  /** Days after the due date at which invoice.overdue is emitted (one event per entry). */
  overdueDays: number[];
}
export const DEFAULT_WILL_BE_DUE_DAYS = [7];
export const DEFAULT_OVERDUE_DAYS = [1];
const dueDates: DueDateConfig = {
  willBeDueDays: parseDays(process.env.PINSTRIPE_INVOICE_WILL_BE_DUE_DAYS) ?? DEFAULT_WILL_BE_DUE_DAYS,
  overdueDays: parseDays(process.env.PINSTRIPE_INVOICE_OVERDUE_DAYS) ?? DEFAULT_OVERDUE_DAYS,
};
function parseDays(v: string | undefined): number[] | undefined {
  if (v === undefined || v.trim() === '') return undefined;
  if (v.trim().toLowerCase() === 'none') return [];
  const days = v.split(',').map((x) => Number(x.trim())).filter((n) => Number.isInteger(n) && n >= 0);
  return days.length ? [...new Set(days)] : undefined;
}
export function configureDueDates(c: Partial<DueDateConfig>): DueDateConfig {
  if (c.willBeDueDays) dueDates.willBeDueDays = [...c.willBeDueDays];
  if (c.overdueDays) dueDates.overdueDays = [...c.overdueDays];
  return { willBeDueDays: [...dueDates.willBeDueDays], overdueDays: [...dueDates.overdueDays] };
}

// Stripe's "Manage invoices sent to customers" setting (Billing → Subscriptions and emails): a
// subscription whose send_invoice invoice stays past due for a number of days after its due date
// is canceled, marked unpaid, or left past_due. Pinstripe leaves it past_due unless configured:
// PINSTRIPE_SEND_INVOICE_PAST_DUE_ACTION (cancel | unpaid | past_due) and
// PINSTRIPE_SEND_INVOICE_PAST_DUE_DAYS (default 30), or configureSendInvoiceDunning().

export interface SendInvoiceDunningConfig {
  /** Days after the due date at which `subscriptionAction` is taken. */
  pastDueDays: number;
  /** What happens to the invoice's subscription then. */
  subscriptionAction: 'cancel' | 'unpaid' | 'past_due';
}
export const DEFAULT_SEND_INVOICE_PAST_DUE_DAYS = 30;
const SEND_INVOICE_ACTIONS = ['cancel', 'unpaid', 'past_due'] as const;
const sendInvoiceDunning: SendInvoiceDunningConfig = {
  pastDueDays: (() => {
    const n = Number(process.env.PINSTRIPE_SEND_INVOICE_PAST_DUE_DAYS);
    return process.env.PINSTRIPE_SEND_INVOICE_PAST_DUE_DAYS && Number.isInteger(n) && n >= 0 ? n : DEFAULT_SEND_INVOICE_PAST_DUE_DAYS;
  })(),
  subscriptionAction: (SEND_INVOICE_ACTIONS as readonly string[]).includes(process.env.PINSTRIPE_SEND_INVOICE_PAST_DUE_ACTION ?? '')
    ? process.env.PINSTRIPE_SEND_INVOICE_PAST_DUE_ACTION as SendInvoiceDunningConfig['subscriptionAction'] : 'past_due',
};
export function configureSendInvoiceDunning(c: Partial<SendInvoiceDunningConfig>): SendInvoiceDunningConfig {
  if (c.pastDueDays !== undefined) sendInvoiceDunning.pastDueDays = c.pastDueDays;
  if (c.subscriptionAction) sendInvoiceDunning.subscriptionAction = c.subscriptionAction;
  return { ...sendInvoiceDunning };
}

/** (Re)schedules an open send_invoice invoice's due-date timers from its due_date. */
export async function scheduleDueDateTimers(ctx: WriteContext, inv: Obj): Promise<void> {
  if (inv.status !== 'open' || inv.collection_method !== 'send_invoice' || typeof inv.due_date !== 'number') return;
  const now = ctx.now();
  const testClock = inv.test_clock ?? null;
  for (const d of dueDates.willBeDueDays) {
    const at = inv.due_date - d * 86_400;
    if (at > now) await scheduleTimer(ctx, { kind: 'invoice.will_be_due', key: `${inv.id}:${d}`, at, testClock });
    else await cancelTimer(ctx, 'invoice.will_be_due', `${inv.id}:${d}`);
  }
  await scheduleTimer(ctx, { kind: 'invoice.due', key: inv.id, at: Math.max(now, inv.due_date), testClock });
  for (const d of dueDates.overdueDays) {
    await scheduleTimer(ctx, { kind: 'invoice.overdue', key: `${inv.id}:${d}`, at: Math.max(now, inv.due_date + d * 86_400), testClock });
  }
  // The "invoices sent to customers" limit; the handler reads the setting when it runs.
  if (inv.subscription ?? inv.parent?.subscription_details?.subscription) {
    await scheduleTimer(ctx, { kind: 'invoice.past_due_limit', key: inv.id, at: Math.max(now, inv.due_date), testClock });
  }
}

async function cancelDueDateTimers(ctx: WriteContext, id: string): Promise<void> {
  for (const d of dueDates.willBeDueDays) await cancelTimer(ctx, 'invoice.will_be_due', `${id}:${d}`);
  await cancelTimer(ctx, 'invoice.due', id);
  for (const d of dueDates.overdueDays) await cancelTimer(ctx, 'invoice.overdue', `${id}:${d}`);
  await cancelTimer(ctx, 'invoice.past_due_limit', id);
}

// ---------------------------------------------------------------------------------------------
// Errors. Stripe's own wording where it is known (recorded from the live API: re-pay,
// re-finalize, void / mark_uncollectible / delete / send in the wrong state, edits of a
// finalized invoice); the rest (marked "ours") are sentences of our own.

const refuse = (message: string, param?: string) => invalidRequest(message, param);
export const INVOICE_ERRORS = {
  alreadyPaid: () => refuse('Invoice is already paid'),
  notDraftFinalize: () => refuse("This invoice is already finalized, you can't re-finalize a non-draft invoice."),
  /** ours */
  payStatus: (status: string) => refuse(`You can only pay an invoice that is open or uncollectible. This invoice is ${status}.`),
  notOpen: () => refuse("You can only pass in open invoices. This invoice isn't open."),
  voidPaid: () => refuse('Invoices with `paid` payments cannot be voided.'),
  alreadyUncollectible: () => refuse('This invoice has already been marked uncollectible.'),
  deleteStatus: () => refuse('You can only delete draft invoices.'),
  notDraftLines: (_id: string) => invalidRequest('Invalid invoice: This invoice is no longer editable', undefined, 'invoice_not_editable'),
  /** ours */
  sendStatus: () => refuse('You can only send an invoice whose collection_method is send_invoice.'),
  cannotSend: () => refuse('This invoice cannot be sent right now. Please contact us via https://support.stripe.com/contact with details, so we can help.'),
  finalizedUpdate: (param: string) => refuse("Finalized invoices can't be updated in this way", param),
  noPaymentMethod: () => invalidRequest('This customer has no attached payment source or default payment method. Please consider adding a default payment method. For more information, visit https://docs.stripe.com/billing/subscriptions/payment-methods-setting#payment-method-priority.'),
  noLines: () => refuse('Nothing to invoice for customer', 'customer'),
  /** /pay off-session with a card that needs authentication (Stripe's error-codes page wording). */
  paymentRequiresAction: (paymentIntent?: Obj) => new StripeError(402, {
    type: 'card_error', code: 'invoice_payment_intent_requires_action',
    message: 'This payment requires additional user action before it can be completed successfully. Payment can be completed using the PaymentIntent associated with the invoice. For more details see https://stripe.com/docs/billing/subscriptions/overview#requires-action',
    ...(paymentIntent ? { payment_intent: paymentIntent } : {}),
  }),
};

// ---------------------------------------------------------------------------------------------
// Helpers

export const INVOICE = 'invoice';
export const LINE_ITEM = 'line_item';
const DISCOUNT = 'discount';
const DRAFT_PERIOD_SECONDS = 3600;

/** A context whose now() is the customer's test clock time (or the request's time). */
export async function clockContext<C extends ReadContext>(ctx: C, customer: Obj): Promise<C> {
  if (!customer.test_clock) return ctx;
  const clock = await ctx.db.get(ctx.scope, customer.test_clock);
  if (!clock || clock.deleted) return ctx;
  const t: number = clock.data.frozen_time;
  return Object.assign(Object.create(Object.getPrototypeOf(ctx)), ctx, { now: () => t });
}

export async function loadInvoice(ctx: ReadContext, id: string, forUpdate = false, param = 'invoice'): Promise<StoredObject> {
  const row = forUpdate && 'tx' in ctx ? await (ctx as WriteContext).tx.getForUpdate(ctx.scope, id) : await ctx.db.get(ctx.scope, id);
  if (!row || row.type !== INVOICE || row.deleted) throw noSuchResource('invoice', id, param);
  return row;
}

async function loadCustomerRow(ctx: ReadContext, id: string, forUpdate = false): Promise<StoredObject> {
  const row = forUpdate && 'tx' in ctx ? await (ctx as WriteContext).tx.getForUpdate(ctx.scope, id) : await ctx.db.get(ctx.scope, id);
  if (!row || row.type !== 'customer' || row.deleted) throw noSuchResource('customer', id, 'customer');
  return row;
}

/** Persists a discount object so invoices can find it by id (discounts have no route of their own). */
export async function storeDiscount(ctx: WriteContext, d: Obj): Promise<string> {
  const existing = await ctx.tx.get(ctx.scope, d.id);
  if (!existing) await ctx.tx.insert(ctx.scope, { id: d.id, type: DISCOUNT, created: d.start ?? ctx.now(), data: canonicalize(d), index: [] });
  return d.id;
}

async function findDiscount(ctx: ReadContext, id: string, customer: Obj | null): Promise<Obj | null> {
  const row = await ctx.db.get(ctx.scope, id);
  if (row && row.type === DISCOUNT) return row.data;
  if (customer?.discount?.id === id) return customer.discount;
  return null;
}

async function discountIds(ctx: WriteContext, list: Array<string | Obj> | undefined, preview: boolean): Promise<string[]> {
  const out: string[] = [];
  for (const d of list ?? []) {
    if (typeof d === 'string') out.push(d);
    else { if (!preview) await storeDiscount(ctx, d); out.push(d.id); }
  }
  return out;
}

async function loadTaxRates(ctx: ReadContext, ids: readonly string[], param: string): Promise<Obj[]> {
  const out: Obj[] = [];
  for (const id of ids) {
    const row = await ctx.db.get(ctx.scope, id);
    if (!row || row.type !== 'tax_rate' || row.deleted) throw noSuchResource('tax_rate', id, param);
    out.push(row.data);
  }
  return out;
}

function statusTransitions(): Obj {
  return { finalized_at: null, marked_uncollectible_at: null, paid_at: null, voided_at: null };
}

export function hostedInvoiceUrl(ctx: ReadContext, id: string): string {
  return invoiceDocumentUrls(ctx.origin ?? 'http://127.0.0.1:12111', ctx.scope, id).hosted_invoice_url;
}

// ---------------------------------------------------------------------------------------------
// Lines

/** The stored line object (current shape) for an input; totals are filled by computeInvoice. */
export async function buildLine(ctx: WriteContext, invoice: Obj, input: LineInput, preview = false): Promise<Obj> {
  let price: Obj | null = null;
  if (typeof input.price === 'string') {
    const row = await ctx.db.get(ctx.scope, input.price);
    price = row?.data ?? null;
  } else if (input.price) price = input.price;
  const proration = !!input.proration;
  const pd = input.proration_details === undefined ? { credited_items: null } : input.proration_details;
  const parent = input.subscription_item
    ? { invoice_item_details: null, subscription_item_details: { invoice_item: input.invoice_item ?? null, proration, proration_details: pd, subscription: input.subscription ?? null, subscription_item: input.subscription_item }, type: 'subscription_item_details' }
    : input.invoice_item
      ? { invoice_item_details: { invoice_item: input.invoice_item, proration, proration_details: pd, subscription: input.subscription ?? null }, subscription_item_details: null, type: 'invoice_item_details' }
      : null;
  const quantity = input.quantity === undefined ? 1 : input.quantity;
  const unit = input.unit_amount_decimal !== undefined ? input.unit_amount_decimal
    : price && typeof price.unit_amount === 'number' ? String(price.unit_amount)
      : quantity ? String(input.amount / quantity) : null;
  return {
    id: ctx.services.ids.id('il'),
    object: LINE_ITEM,
    amount: input.amount,
    currency: input.currency.toLowerCase(),
    description: input.description,
    discount_amounts: [],
    discountable: input.discountable ?? true,
    discounts: await discountIds(ctx, input.discounts, preview),
    invoice: invoice.id,
    livemode: ctx.scope.livemode,
    metadata: input.metadata ?? {},
    parent,
    period: { end: input.period.end, start: input.period.start },
    pretax_credit_amounts: [],
    pricing: price ? { price_details: { price: price.id, product: typeof price.product === 'string' ? price.product : price.product?.id }, type: 'price_details', unit_amount_decimal: unit } : null,
    quantity,
    quantity_decimal: quantity === null ? null : String(quantity),
    subscription: input.subscription ?? null,
    subtotal: input.amount,
    taxes: [],
    // Internal (not rendered): the line's tax rates, to recompute totals. Stripped by publicLine.
    _tax_rates: input.tax_rates ?? [],
  };
}

/** The line as the API renders it (internal fields removed). */
export function publicLine(line: Obj): Obj {
  const { _tax_rates: _t, _created: _c, ...rest } = line;
  return rest;
}

export async function loadLines(ctx: ReadContext, invoiceId: string): Promise<StoredObject[]> {
  const out: StoredObject[] = [];
  let after: { created: number; seq: number } | undefined;
  for (;;) {
    const rows = await ctx.db.scan(ctx.scope, { type: LINE_ITEM, index: { field: 'invoice', value: invoiceId }, direction: 'newer', limit: 500, ...(after ? { after } : {}) });
    out.push(...rows.filter((r) => !r.deleted));
    if (rows.length < 500) return out;
    const last = rows[rows.length - 1]!;
    after = { created: last.created, seq: last.seq };
  }
}

// ---------------------------------------------------------------------------------------------
// Totals

const round = (x: number) => Math.sign(x) * Math.round(Math.abs(x) + 1e-9);

/**
 * Computes every line's discount_amounts / pretax_credit_amounts / taxes and the invoice's
 * totals (subtotal … amount_remaining), in place on copies; returns { invoice, lines }.
 */
export async function computeInvoice(ctx: ReadContext, invoice: Obj, lines: Obj[]): Promise<{ invoice: Obj; lines: Obj[] }> {
  const inv = { ...invoice };
  const ls = lines.map((l) => ({ ...l }));
  const customer = inv.customer ? (await ctx.db.get(ctx.scope, inv.customer))?.data ?? null : null;
  const coupons = new Map<string, Obj | null>();
  const couponOf = async (discountId: string): Promise<Obj | null> => {
    if (coupons.has(discountId)) return coupons.get(discountId)!;
    const d = inv._discount_objects?.[discountId] ?? await findDiscount(ctx, discountId, customer);
    const couponId = d?.source?.coupon ?? d?.coupon?.id;
    const c = couponId ? (await ctx.db.get(ctx.scope, couponId))?.data ?? null : null;
    coupons.set(discountId, c);
    return c;
  };
  const productOf = (l: Obj) => l.pricing?.price_details?.product ?? null;
  const remaining = ls.map((l) => l.amount);
  const discountAmounts: Array<Array<{ amount: number; discount: string }>> = ls.map(() => []);
  // Line-level discounts.
  for (const [i, l] of ls.entries()) {
    for (const did of l.discounts ?? []) {
      const coupon = await couponOf(did);
      const amt = coupon ? couponDiscountAmount(coupon, { amount: remaining[i]!, currency: l.currency, product: productOf(l) }) : 0;
      remaining[i]! -= amt;
      discountAmounts[i]!.push({ amount: amt, discount: did });
    }
  }
  const itemDiscounted = [...remaining];
  // Invoice-level discounts on discountable lines.
  for (const did of inv.discounts ?? []) {
    const coupon = await couponOf(did);
    const targets = ls.map((l, i) => ({ amount: l.discountable ? remaining[i]! : 0, currency: l.currency, product: productOf(l) }));
    const parts = coupon ? couponDiscountLines(coupon, targets) : targets.map(() => 0);
    for (const [i, l] of ls.entries()) {
      if (!l.discountable) continue;
      if (coupon && !couponAppliesTo(coupon, productOf(l)) && parts[i] === 0) continue;
      remaining[i]! -= parts[i]!;
      discountAmounts[i]!.push({ amount: parts[i]!, discount: did });
    }
  }
  // Taxes.
  const defaultRates: Obj[] = inv.default_tax_rates ?? [];
  const rateCache = new Map<string, Obj>();
  for (const r of defaultRates) rateCache.set(r.id, r);
  const totalTaxes = new Map<string, Obj>();
  let subtotal = 0, inclusiveInSubtotal = 0, totalNet = 0, exclusiveTax = 0, taxableSum = 0;
  for (const [i, l] of ls.entries()) {
    let rates: Obj[] = [];
    const ids: string[] = l._tax_rates ?? [];
    if (ids.length) {
      for (const id of ids) {
        if (!rateCache.has(id)) { const row = await ctx.db.get(ctx.scope, id); if (row) rateCache.set(id, row.data); }
        const r = rateCache.get(id);
        if (r) rates.push(r);
      }
    } else rates = defaultRates;
    if (customer?.tax_exempt === 'exempt') rates = [];
    const net = remaining[i]!;
    const inc = rates.filter((r) => r.inclusive);
    const exc = rates.filter((r) => !r.inclusive);
    const incPct = inc.reduce((a, r) => a + r.percentage, 0);
    const inclusiveOf = (gross: number) => (incPct ? gross - round(gross / (1 + incPct / 100)) : 0);
    const incTotal = inclusiveOf(net);
    const taxable = net - incTotal;
    const taxes: Obj[] = [];
    // Inclusive tax split over the inclusive rates in proportion to their percentages.
    let incLeft = incTotal;
    for (const [k, r] of inc.entries()) {
      const amt = k === inc.length - 1 ? incLeft : round((incTotal * r.percentage) / incPct);
      incLeft -= amt;
      taxes.push({ amount: amt, tax_behavior: 'inclusive', tax_rate_details: { tax_rate: r.id }, taxability_reason: 'not_available', taxable_amount: taxable, type: 'tax_rate_details' });
    }
    for (const r of exc) {
      const amt = round((taxable * r.percentage) / 100);
      exclusiveTax += amt;
      taxes.push({ amount: amt, tax_behavior: 'exclusive', tax_rate_details: { tax_rate: r.id }, taxability_reason: 'not_available', taxable_amount: taxable, type: 'tax_rate_details' });
    }
    for (const t of taxes) {
      const key = `${t.tax_rate_details.tax_rate}`;
      const agg = totalTaxes.get(key);
      if (agg) { agg.amount += t.amount; agg.taxable_amount += t.taxable_amount; } else totalTaxes.set(key, { ...t });
    }
    l.discount_amounts = discountAmounts[i];
    l.pretax_credit_amounts = discountAmounts[i]!.map((d) => ({ amount: d.amount, discount: d.discount, type: 'discount' }));
    l.taxes = taxes;
    l.subtotal = l.amount;
    subtotal += itemDiscounted[i]!;
    inclusiveInSubtotal += inclusiveOf(itemDiscounted[i]!);
    totalNet += net;
    taxableSum += taxable;
  }
  const byDiscount = new Map<string, number>();
  for (const das of discountAmounts) for (const d of das) byDiscount.set(d.discount, (byDiscount.get(d.discount) ?? 0) + d.amount);
  inv.subtotal = subtotal;
  inv.subtotal_excluding_tax = subtotal - inclusiveInSubtotal;
  inv.total_discount_amounts = [...byDiscount].map(([discount, amount]) => ({ amount, discount }));
  inv.total_pretax_credit_amounts = [...byDiscount].map(([discount, amount]) => ({ amount, discount, type: 'discount' }));
  inv.total_taxes = [...totalTaxes.values()];
  inv.total = totalNet + exclusiveTax;
  inv.total_excluding_tax = taxableSum;
  applyDue(inv);
  return { invoice: inv, lines: ls };
}

/** amount_due / amount_remaining from total, balance and credit notes (drafts: no balance yet). */
function applyDue(inv: Obj): void {
  const credits = inv.pre_payment_credit_notes_amount ?? 0;
  if (inv.status === 'draft' || inv.status === null) {
    inv.amount_due = Math.max(0, inv.total - credits);
  } else {
    // Finalized: the applied balance was fixed at finalization (starting/ending balance).
    const applied = (inv.starting_balance ?? 0) - (inv.ending_balance ?? 0);
    inv.amount_due = Math.max(0, inv.total + applied - credits);
  }
  inv.amount_remaining = inv.status === 'paid' || inv.status === 'void' ? 0 : Math.max(0, inv.amount_due - inv.amount_paid);
}

// ---------------------------------------------------------------------------------------------
// Storage

function invoiceIndex(inv: Obj): Array<{ field: string; value: string }> {
  return [
    ...(inv.customer ? [{ field: 'customer', value: inv.customer }] : []),
    ...(inv.status ? [{ field: 'status', value: inv.status }] : []),
    ...(inv.subscription_id ? [{ field: 'subscription', value: inv.subscription_id }] : []),
    ...(inv.parent?.subscription_details?.subscription ? [{ field: 'subscription', value: inv.parent.subscription_details.subscription }] : []),
    { field: 'collection_method', value: inv.collection_method },
  ];
}

/** Hook the invoices resource sets so stored invoices get its index entries (search tokens). */
let indexHook: (inv: Obj) => Array<{ field: string; value: string }> = invoiceIndex;
export function setInvoiceIndexer(fn: (inv: Obj) => Array<{ field: string; value: string }>): void { indexHook = fn; }
export { invoiceIndex };

function embedLines(inv: Obj, lines: Obj[]): Obj {
  return {
    ...inv,
    lines: { data: lines.slice(0, 10).map(publicLine), has_more: lines.length > 10, object: 'list', url: `/v1/invoices/${inv.id}/lines` },
  };
}

/** Emits an invoice event: includable fields (confirmation_secret) stay out of payloads, as in Stripe's. */
export async function invoiceEvent(ctx: WriteContext, type: string, inv: Obj, previous?: Obj): Promise<void> {
  const { confirmation_secret: _s, ...view } = inv;
  let prev = previous;
  if (prev && 'confirmation_secret' in prev) {
    const { confirmation_secret: _p, ...rest } = prev;
    prev = Object.keys(rest).length ? rest : undefined;
  }
  await emitEvent(ctx, type, view, prev);
}

/** Internal fields kept on the stored invoice but never rendered. */
const INTERNAL = ['_discount_objects'];
export function publicInvoice(inv: Obj): Obj {
  const out = { ...inv };
  for (const k of INTERNAL) delete out[k];
  return out;
}

async function writeInvoice(ctx: WriteContext, row: StoredObject | null, inv: Obj, eventType?: string, previous?: Obj): Promise<{ row: StoredObject; data: Obj }> {
  const data = canonicalize(publicInvoice(inv));
  const stored = row
    ? await ctx.tx.update(ctx.scope, { id: row.id, version: row.version, data, index: indexHook(data) })
    : await ctx.tx.insert(ctx.scope, { id: data.id, type: INVOICE, created: data.created, data, index: indexHook(data) });
  if (eventType) await invoiceEvent(ctx, eventType, data, previous);
  return { row: { ...stored, data }, data };
}

async function writeLines(ctx: WriteContext, invoiceId: string, before: StoredObject[], after: Obj[]): Promise<void> {
  const old = new Map(before.map((r) => [r.id, r]));
  for (const l of after) {
    const data = canonicalize(l);
    const r = old.get(l.id);
    if (r) {
      old.delete(l.id);
      if (JSON.stringify(r.data) !== JSON.stringify(data)) await ctx.tx.update(ctx.scope, { id: r.id, version: r.version, data, index: [{ field: 'invoice', value: invoiceId }] });
    } else {
      await ctx.tx.insert(ctx.scope, { id: l.id, type: LINE_ITEM, created: ctx.now(), data, index: [{ field: 'invoice', value: invoiceId }] });
    }
  }
  for (const r of old.values()) await ctx.tx.update(ctx.scope, { id: r.id, version: r.version, data: r.data, index: [], deleted: true });
}

/** Recomputes a draft's totals after its lines changed; writes lines and invoice; emits invoice.updated when asked. */
export async function recomputeInvoice(ctx: WriteContext, row: StoredObject, next: Obj, newLines: Obj[] | null, eventType?: string): Promise<Obj> {
  const beforeLines = await loadLines(ctx, row.id);
  const lines = newLines ?? beforeLines.map((r) => r.data);
  const { invoice, lines: computed } = await computeInvoice(ctx, next, lines);
  await writeLines(ctx, row.id, beforeLines, computed);
  const full = embedLines(invoice, computed);
  const { previousAttributes } = await import('../../events/events.js');
  const prev = previousAttributes(row.data, canonicalize(publicInvoice(full)));
  if (!prev) return row.data;
  return (await writeInvoice(ctx, row, full, eventType, prev)).data;
}

// ---------------------------------------------------------------------------------------------
// Create

/** The invoice object of a new draft (all fields of the current shape; totals zero). */
function draftInvoice(ctx: WriteContext, customer: Obj, o: CreateInvoiceInput, id: string, currency: string): Obj {
  const now = ctx.now();
  const collection = o.collection_method ?? 'charge_automatically';
  const autoAdvance = o.auto_advance ?? false;
  const dueDate = collection === 'send_invoice'
    ? (o.due_date ?? (typeof o.days_until_due === 'number' ? now + o.days_until_due * 86_400 : null)) : null;
  return {
    id,
    object: INVOICE,
    account_country: 'US',
    account_name: null,
    account_tax_ids: null,
    amount_due: 0,
    amount_overpaid: 0,
    amount_paid: 0,
    amount_remaining: 0,
    amount_shipping: 0,
    application: null,
    attempt_count: 0,
    attempted: false,
    auto_advance: autoAdvance,
    automatic_tax: { disabled_reason: null, enabled: false, liability: null, provider: null, status: null },
    automatically_finalizes_at: autoAdvance ? now + DRAFT_PERIOD_SECONDS : null,
    billing_reason: o.billing_reason,
    collection_method: collection,
    created: now,
    currency,
    custom_fields: o.custom_fields ?? customer.invoice_settings?.custom_fields ?? null,
    customer: customer.id,
    customer_account: null,
    customer_address: customer.address ?? null,
    customer_email: customer.email ?? null,
    customer_name: customer.name ?? null,
    customer_phone: customer.phone ?? null,
    customer_shipping: customer.shipping ?? null,
    customer_tax_exempt: customer.tax_exempt ?? 'none',
    customer_tax_ids: [],
    default_payment_method: o.default_payment_method ?? null,
    default_source: o.default_source ?? null,
    default_tax_rates: [],
    description: o.description ?? null,
    discounts: [],
    due_date: dueDate,
    effective_at: null,
    ending_balance: null,
    footer: o.footer ?? customer.invoice_settings?.footer ?? null,
    from_invoice: null,
    hosted_invoice_url: null,
    invoice_pdf: null,
    issuer: { type: 'self' },
    last_finalization_error: null,
    latest_revision: null,
    lines: { data: [], has_more: false, object: 'list', url: `/v1/invoices/${id}/lines` },
    livemode: ctx.scope.livemode,
    metadata: o.metadata ?? {},
    next_payment_attempt: null,
    number: o.number ?? null,
    on_behalf_of: null,
    parent: o.subscription
      ? { quote_details: null, subscription_details: { metadata: o.subscription_metadata ?? null, subscription: o.subscription }, type: 'subscription_details' }
      : null,
    payment_settings: { default_mandate: null, payment_method_options: null, payment_method_types: null },
    period_end: o.period_end ?? now,
    period_start: o.period_start ?? now,
    post_payment_credit_notes_amount: 0,
    pre_payment_credit_notes_amount: 0,
    receipt_number: null,
    rendering: { amount_tax_display: customer.invoice_settings?.rendering_options?.amount_tax_display ?? null, pdf: { page_size: 'auto' }, template: null, template_version: null },
    shipping_cost: null,
    shipping_details: null,
    starting_balance: 0,
    statement_descriptor: o.statement_descriptor ?? null,
    status: 'draft',
    status_transitions: statusTransitions(),
    // Still in Stripe's current fixtures (the subscription is also under parent.subscription_details).
    subscription: o.subscription ?? null,
    subtotal: 0,
    subtotal_excluding_tax: 0,
    test_clock: customer.test_clock ?? null,
    total: 0,
    total_discount_amounts: [],
    total_excluding_tax: 0,
    total_pretax_credit_amounts: [],
    total_taxes: [],
    webhooks_delivered_at: now,
  };
}

/** Pending invoice items of a customer for an invoice (those of `subscription`, or with no subscription). */
export async function pendingItems(ctx: ReadContext, customer: string, subscription: string | null): Promise<StoredObject[]> {
  const rows = await ctx.db.scan(ctx.scope, { type: 'invoiceitem', index: { field: 'pending', value: customer }, direction: 'newer', limit: 1000 });
  return rows.filter((r) => !r.deleted && r.data.invoice === null && (itemSubscription(r.data) ?? null) === (subscription ?? null)
    || (!r.deleted && r.data.invoice === null && subscription !== null && itemSubscription(r.data) === null));
}
export function itemSubscription(item: Obj): string | null {
  return item.parent?.subscription_details?.subscription ?? null;
}

/** The line input an invoice item becomes. */
export function lineFromItem(item: Obj): LineInput {
  return {
    amount: item.amount,
    currency: item.currency,
    description: item.description,
    period: item.period,
    price: item.pricing?.price_details?.price ?? null,
    quantity: item.quantity,
    unit_amount_decimal: item.pricing?.unit_amount_decimal ?? null,
    proration: item.proration,
    proration_details: item.proration_details ?? { credited_items: null },
    subscription: itemSubscription(item),
    subscription_item: item.parent?.subscription_details?.subscription_item ?? null,
    invoice_item: item.id,
    discountable: item.discountable,
    discounts: item.discounts ?? [],
    tax_rates: (item.tax_rates ?? []).map((r: Obj) => r.id),
    metadata: item.metadata ?? {},
  };
}

/** Creates a draft invoice (see CreateInvoiceInput). Emits invoice.created; auto_advance schedules finalization one hour later. */
export async function createInvoice(ctx: WriteContext, o: CreateInvoiceInput): Promise<Obj> {
  const custRow = await loadCustomerRow(ctx, o.customer);
  const customer = custRow.data;
  const id = o.preview ? `upcoming_in_${ctx.services.ids.random(24)}` : ctx.services.ids.id('in');
  const inputs = [...(o.lines ?? [])];
  const pulled: StoredObject[] = [];
  if (o.pull_pending_items) pulled.push(...await pendingItems(ctx, customer.id, o.subscription ?? null));
  const currency = (o.currency ?? inputs[0]?.currency ?? pulled[0]?.data.currency ?? customer.currency ?? 'usd').toLowerCase();
  for (const p of pulled) if (p.data.currency === currency) inputs.push(lineFromItem(p.data));
  const inv = draftInvoice(ctx, customer, o, id, currency);
  if (o.default_tax_rates?.length) inv.default_tax_rates = await loadTaxRates(ctx, o.default_tax_rates, 'default_tax_rates');
  if (o.discounts !== undefined) inv.discounts = await discountIds(ctx, o.discounts, !!o.preview);
  else if (customer.discount) inv.discounts = [customer.discount.id];
  if (o.preview) {
    const objects: Obj = {};
    for (const d of o.discounts ?? []) if (typeof d !== 'string') objects[d.id] = d;
    inv._discount_objects = objects;
  }
  const lines: Obj[] = [];
  for (const input of inputs) lines.push(await buildLine(ctx, inv, input, !!o.preview));
  const { invoice, lines: computed } = await computeInvoice(ctx, inv, lines);
  const full = embedLines(invoice, computed);
  if (o.preview) return { invoice: publicInvoice(full), lines: computed.map(publicLine) } as unknown as Obj;
  // Invoice items pulled in now belong to the invoice.
  for (const p of pulled) {
    if (p.data.currency !== currency) continue;
    const fresh = (await ctx.tx.getForUpdate(ctx.scope, p.id))!;
    const item = { ...fresh.data, invoice: id };
    await ctx.tx.update(ctx.scope, { id: p.id, version: fresh.version, data: canonicalize(item), index: itemIndex(item) });
  }
  for (const l of computed) await ctx.tx.insert(ctx.scope, { id: l.id, type: LINE_ITEM, created: ctx.now(), data: canonicalize(l), index: [{ field: 'invoice', value: id }] });
  const { data } = await writeInvoice(ctx, null, full, 'invoice.created');
  if (data.auto_advance) await scheduleFinalize(ctx, data);
  return data;
}

/** Index entries of an invoice item (pending items are found by customer). */
export function itemIndex(item: Obj): Array<{ field: string; value: string }> {
  return [
    { field: 'customer', value: item.customer },
    ...(item.invoice ? [{ field: 'invoice', value: item.invoice }] : [{ field: 'pending', value: item.customer }]),
  ];
}

async function scheduleFinalize(ctx: WriteContext, inv: Obj): Promise<void> {
  const at = inv.automatically_finalizes_at ?? inv.created + DRAFT_PERIOD_SECONDS;
  await scheduleTimer(ctx, { kind: 'invoice.finalize', key: inv.id, at, testClock: inv.test_clock ?? null });
}

/** Adds lines to a draft invoice and recomputes it (invoice.updated). */
export async function addInvoiceLines(ctx: WriteContext, id: string, inputs: LineInput[]): Promise<Obj> {
  const row = await loadInvoice(ctx, id, true);
  if (row.data.status !== 'draft') throw INVOICE_ERRORS.notDraftLines(id);
  const current = (await loadLines(ctx, id)).map((r) => r.data);
  for (const input of inputs) current.push(await buildLine(ctx, row.data, input));
  return recomputeInvoice(ctx, row, structuredClone(row.data), current, 'invoice.updated');
}

/** Re-reads a draft's lines from storage and recomputes it (after an invoice item changed). */
export async function refreshDraft(ctx: WriteContext, id: string, eventType: string | undefined = 'invoice.updated'): Promise<Obj> {
  const row = await loadInvoice(ctx, id, true);
  return recomputeInvoice(ctx, row, structuredClone(row.data), null, eventType);
}

// ---------------------------------------------------------------------------------------------
// Customer balance

/** A customer balance transaction object (stored, no customer change): see recordCustomerBalance. */
export async function insertBalanceTransaction(ctx: WriteContext, customerId: string, endingBalance: number, t: {
  amount: number; currency: string; type: string; invoice?: string | null; credit_note?: string | null; description?: string | null; metadata?: Obj | null;
}): Promise<Obj> {
  const txn = canonicalize({
    id: ctx.services.ids.id('cbtxn'),
    object: 'customer_balance_transaction',
    amount: t.amount,
    checkout_session: null,
    created: ctx.now(),
    credit_note: t.credit_note ?? null,
    currency: t.currency.toLowerCase(),
    customer: customerId,
    customer_account: null,
    description: t.description ?? null,
    ending_balance: endingBalance,
    invoice: t.invoice ?? null,
    livemode: ctx.scope.livemode,
    metadata: t.metadata ?? {},
    type: t.type,
  });
  await ctx.tx.insert(ctx.scope, { id: txn.id as string, type: 'customer_balance_transaction', created: txn.created as number, data: txn, index: [{ field: 'customer', value: customerId }] });
  return txn;
}

/**
 * Records a customer balance transaction and moves customer.balance (customer.updated).
 * Types: adjustment, applied_to_invoice, unapplied_from_invoice, credit_note, invoice_overpaid, …
 * A balance in another currency than the customer's is refused.
 */
export async function recordCustomerBalance(ctx: WriteContext, customerId: string, t: {
  amount: number; currency: string; type: string; invoice?: string | null; credit_note?: string | null; description?: string | null; metadata?: Obj | null;
}): Promise<Obj> {
  const row = await loadCustomerRow(ctx, customerId, true);
  const c = structuredClone(row.data);
  const currency = t.currency.toLowerCase();
  if (c.currency && c.currency !== currency && c.balance !== 0) {
    throw invalidRequest(`The currency ${currency} does not match the customer's currency ${c.currency}: a customer's balance is in one currency.`, 'currency');
  }
  const ending = c.balance + t.amount;
  const txn = await insertBalanceTransaction(ctx, customerId, ending, { ...t, currency });
  c.balance = ending;
  if (!c.currency) c.currency = currency;
  await saveCustomer(ctx, row, c);
  return txn;
}

async function saveCustomer(ctx: WriteContext, row: StoredObject, next: Obj, event = true): Promise<void> {
  const { customers } = await import('../../resources/customers.js');
  const { saveObject } = await import('../../resources/define.js');
  if (event) await saveObject(ctx, customers, row, next);
  else {
    const { indexEntries } = await import('../../resources/define.js');
    const data = canonicalize(next);
    await ctx.tx.update(ctx.scope, { id: row.id, version: row.version, data, index: indexEntries(customers, data) });
  }
}

// ---------------------------------------------------------------------------------------------
// Finalize

/** Finalizes a draft: number, balance applied, URLs, PaymentIntent for automatic collection. */
export async function finalizeInvoice(ctx: WriteContext, id: string, o: { auto_advance?: boolean; send?: boolean } = {}): Promise<Obj> {
  const row = await loadInvoice(ctx, id, true);
  if (row.data.status !== 'draft') throw INVOICE_ERRORS.notDraftFinalize();
  const inv = structuredClone(row.data);
  const custRow = await loadCustomerRow(ctx, inv.customer, true);
  const customer = structuredClone(custRow.data);
  const now = ctx.now();
  await cancelTimer(ctx, 'invoice.finalize', id);
  if (o.auto_advance !== undefined) inv.auto_advance = o.auto_advance;
  // Number: the customer's prefix and sequence.
  if (!inv.number) {
    inv.number = `${customer.invoice_prefix}-${String(customer.next_invoice_sequence).padStart(4, '0')}`;
    customer.next_invoice_sequence += 1;
  }
  inv.status = 'open';
  inv.automatically_finalizes_at = null;
  inv.effective_at = inv.effective_at ?? now;
  inv.status_transitions = { ...inv.status_transitions, finalized_at: now };
  const urls = invoiceDocumentUrls(ctx.origin ?? 'http://127.0.0.1:12111', ctx.scope, id);
  inv.hosted_invoice_url = urls.hosted_invoice_url;
  inv.invoice_pdf = urls.invoice_pdf;
  if (inv.collection_method === 'send_invoice' && inv.due_date === null) inv.due_date = now + 30 * 86_400;
  // Balance: credit (negative) reduces what is due, debit (positive) adds to it.
  const starting = customer.balance ?? 0;
  const balanceCurrencyOk = !customer.currency || customer.currency === inv.currency;
  inv.starting_balance = balanceCurrencyOk ? starting : 0;
  const applied = inv.starting_balance + inv.total - (inv.pre_payment_credit_notes_amount ?? 0);
  let ending = applied >= 0 ? 0 : applied;
  let due = Math.max(0, applied);
  // Below the currency minimum: carried to the customer's balance, nothing due.
  if (due > 0 && due < minimumAmount(inv.currency)) { ending = due; due = 0; }
  inv.ending_balance = ending;
  inv.amount_due = due;
  inv.amount_remaining = due;
  const balanceDelta = ending - inv.starting_balance;
  await saveCustomer(ctx, custRow, customer, false);
  if (balanceDelta !== 0) {
    await recordCustomerBalance(ctx, inv.customer, { amount: balanceDelta, currency: inv.currency, type: 'applied_to_invoice', invoice: id });
  }
  if (due > 0) {
    // The invoice's payment: a PaymentIntent for the amount due, as an invoice_payment.
    const pi = await createInvoicePaymentIntent(ctx, inv);
    inv.confirmation_secret = { client_secret: pi.client_secret, type: 'payment_intent' };
    await insertInvoicePayment(ctx, inv, pi);
  } else {
    inv.confirmation_secret = null;
  }
  const paidNow = due === 0;
  if (paidNow) {
    inv.status = 'paid';
    inv.status_transitions.paid_at = now;
    inv.amount_remaining = 0;
  }
  let { row: saved, data } = await writeInvoice(ctx, row, inv, 'invoice.finalized');
  await notify('finalized', ctx, data);
  if (paidNow) {
    await invoiceEvent(ctx, 'invoice.paid', data);
    await invoiceEvent(ctx, 'invoice.payment_succeeded', data);
    await notify('paid', ctx, data);
  } else if (data.collection_method === 'charge_automatically' && data.auto_advance) {
    // Automatic collection: the payment attempt follows finalization.
    await scheduleTimer(ctx, { kind: 'invoice.pay', key: id, at: now, testClock: data.test_clock ?? null });
  } else if (data.collection_method === 'send_invoice') {
    // Automatic collection of a send_invoice invoice is emailing it (invoice.sent; test mode
    // sends no email); /send sends it explicitly. Its due date then has timers of its own.
    if (o.send || data.auto_advance) await invoiceEvent(ctx, 'invoice.sent', data);
    await scheduleDueDateTimers(ctx, data);
  }
  void saved;
  return data;
}

// ---------------------------------------------------------------------------------------------
// Payments

async function createInvoicePaymentIntent(ctx: WriteContext, inv: Obj): Promise<Obj> {
  const { createIntent } = await import('../../resources/payment-intents.js');
  return createIntent(ctx, {
    amount: inv.amount_due, currency: inv.currency, customer: inv.customer,
    description: inv.number ? `Invoice ${inv.number}` : 'Invoice', payment_method_types: ['card'], metadata: {},
    ...(inv.statement_descriptor ? { statement_descriptor: inv.statement_descriptor } : {}),
  });
}

const INVOICE_PAYMENT = 'invoice_payment';

async function insertInvoicePayment(ctx: WriteContext, inv: Obj, pi: Obj | null, status = 'open'): Promise<Obj> {
  const p = canonicalize({
    id: ctx.services.ids.id('inpay'),
    object: INVOICE_PAYMENT,
    amount_paid: null,
    amount_requested: inv.amount_due,
    created: ctx.now(),
    currency: inv.currency,
    invoice: inv.id,
    is_default: true,
    livemode: ctx.scope.livemode,
    payment: pi ? { payment_intent: pi.id, type: 'payment_intent' } : { type: 'out_of_band_payment' },
    status,
    status_transitions: { canceled_at: null, paid_at: null },
  });
  await ctx.tx.insert(ctx.scope, { id: p.id as string, type: INVOICE_PAYMENT, created: p.created as number, data: p, index: [{ field: 'invoice', value: inv.id }, ...(pi ? [{ field: 'payment_intent', value: pi.id }] : [])] });
  return p;
}

export async function invoicePayments(ctx: ReadContext, invoiceId: string): Promise<StoredObject[]> {
  const rows = await ctx.db.scan(ctx.scope, { type: INVOICE_PAYMENT, index: { field: 'invoice', value: invoiceId }, direction: 'older', limit: 100 });
  return rows.filter((r) => !r.deleted);
}

async function defaultPayment(ctx: WriteContext, inv: Obj): Promise<StoredObject | null> {
  return (await invoicePayments(ctx, inv.id)).find((r) => r.data.is_default && r.data.status === 'open') ?? null;
}

async function settlePayment(ctx: WriteContext, inv: Obj, status: 'paid' | 'canceled', amount: number | null): Promise<void> {
  const p = await defaultPayment(ctx, inv);
  if (!p) return;
  const fresh = (await ctx.tx.getForUpdate(ctx.scope, p.id))!;
  const next: Obj = { ...fresh.data, status, amount_paid: amount, status_transitions: { ...fresh.data.status_transitions, [status === 'paid' ? 'paid_at' : 'canceled_at']: ctx.now() } };
  await ctx.tx.update(ctx.scope, { id: p.id, version: fresh.version, data: canonicalize(next), index: [{ field: 'invoice', value: inv.id }, ...(next.payment.payment_intent ? [{ field: 'payment_intent', value: next.payment.payment_intent }] : [])] });
  if (status === 'paid') await emitEvent(ctx, 'invoice_payment.paid', canonicalize(next));
}

/** The payment method an invoice is paid with: explicit, the invoice's, the customer's invoice default, its default source. */
async function paymentMethodFor(ctx: WriteContext, inv: Obj, explicit?: string | null): Promise<string | null> {
  if (explicit) return explicit;
  if (inv.default_payment_method) return inv.default_payment_method;
  if (inv.default_source) return inv.default_source;
  const c = (await ctx.db.get(ctx.scope, inv.customer))?.data;
  return c?.invoice_settings?.default_payment_method ?? c?.default_source ?? null;
}

async function markPaid(ctx: WriteContext, row: StoredObject, inv: Obj, amountPaid: number, outOfBand: boolean): Promise<Obj> {
  const now = ctx.now();
  await cancelTimer(ctx, 'invoice.retry', inv.id);
  await cancelTimer(ctx, 'invoice.pay', inv.id);
  await cancelDueDateTimers(ctx, inv.id);
  inv.status = 'paid';
  inv.amount_paid = amountPaid;
  inv.amount_remaining = 0;
  inv.next_payment_attempt = null;
  inv.status_transitions = { ...inv.status_transitions, paid_at: now };
  if (outOfBand) {
    await settlePayment(ctx, inv, 'canceled', null);
    await insertInvoicePayment(ctx, inv, null, 'paid').then(async (p) => {
      const fresh = (await ctx.tx.getForUpdate(ctx.scope, p.id))!;
      await ctx.tx.update(ctx.scope, { id: p.id, version: fresh.version, data: canonicalize({ ...p, amount_paid: amountPaid, status_transitions: { canceled_at: null, paid_at: now } }), index: [{ field: 'invoice', value: inv.id }] });
    });
  } else await settlePayment(ctx, inv, 'paid', amountPaid);
  const { data } = await writeInvoice(ctx, row, inv, 'invoice.updated', undefined);
  await setDelinquent(ctx, inv.customer, false);
  await invoiceEvent(ctx, 'invoice.paid', data);
  await invoiceEvent(ctx, 'invoice.payment_succeeded', data);
  await notify('paid', ctx, data);
  return data;
}

/**
 * Pays an open (or uncollectible) invoice; a draft is finalized first. Declines from an API call
 * are recorded (attempt_count, invoice.payment_failed) and rethrown as the committing card error;
 * automatic attempts (o.automatic) record them, schedule the next retry, and return the invoice.
 */
export async function payInvoice(ctx: WriteContext, id: string, o: PayOptions = {}): Promise<Obj> {
  let row = await loadInvoice(ctx, id, true);
  if (row.data.status === 'draft') {
    const finalized = await finalizeInvoice(ctx, id);
    if (finalized.status === 'paid') return finalized; // nothing was due
    row = await loadInvoice(ctx, id, true);
  }
  const inv = structuredClone(row.data);
  if (inv.status === 'paid') throw INVOICE_ERRORS.alreadyPaid();
  if (inv.status !== 'open' && inv.status !== 'uncollectible') throw INVOICE_ERRORS.payStatus(inv.status);
  if (o.paid_out_of_band) return markPaid(ctx, row, inv, 0, true);
  if (inv.amount_remaining === 0) return markPaid(ctx, row, inv, 0, false);
  const pmId = await paymentMethodFor(ctx, inv, o.payment_method);
  const payment = await defaultPayment(ctx, inv);
  const piRow = payment?.data.payment?.payment_intent ? await ctx.tx.getForUpdate(ctx.scope, payment.data.payment.payment_intent) : null;
  // The customer completed the payment on-session (3-D Secure page, Stripe.js) since the last attempt.
  if (piRow && piRow.data.status === 'succeeded') {
    inv.attempted = true;
    return markPaid(ctx, row, inv, piRow.data.amount_received, false);
  }
  if (!pmId || !piRow) {
    if (!o.automatic) throw INVOICE_ERRORS.noPaymentMethod();
    return recordFailure(ctx, row, inv, { automatic: true, actionRequired: false });
  }
  const { confirmIntent } = await import('../../resources/payment-intents.js');
  let pi: Obj;
  // This attempt settles the invoice itself below: the intent-succeeded hook stands aside.
  const confirming = confirmingIn(ctx);
  confirming.add(piRow.id);
  try {
    pi = await confirmIntent(ctx, piRow, { payment_method: pmId, off_session: o.automatic ? true : (o.off_session ?? true) });
  } catch (err) {
    if (err instanceof StripeError && err.commit) {
      const action = err.fields.code === 'authentication_required' || (err.fields as Obj).decline_code === 'authentication_required';
      // Off-session (automatic attempts, and /pay unless off_session=false): the intent is left
      // requires_action for the customer to authenticate on-session.
      const offSession = o.automatic || (o.off_session ?? true);
      if (action && offSession) await intentRequiresAction(ctx, piRow.id, pmId);
      const fresh = await loadInvoice(ctx, id, true);
      await recordFailure(ctx, fresh, structuredClone(fresh.data), { automatic: !!o.automatic, actionRequired: action });
      if (o.automatic) return (await loadInvoice(ctx, id)).data;
      if (action && offSession) {
        const intent = (await ctx.tx.get(ctx.scope, piRow.id))?.data;
        throw INVOICE_ERRORS.paymentRequiresAction(intent).committing();
      }
      throw err;
    }
    throw err;
  } finally {
    confirming.delete(piRow.id);
  }
  if (pi.status === 'succeeded') {
    inv.attempt_count += 1;
    inv.attempted = true;
    return markPaid(ctx, row, inv, inv.amount_remaining, false);
  }
  // requires_action (on-session 3-D Secure) or processing: the invoice stays open.
  const fresh = await loadInvoice(ctx, id, true);
  return recordFailure(ctx, fresh, structuredClone(fresh.data), { automatic: !!o.automatic, actionRequired: pi.status === 'requires_action', noRetry: pi.status === 'processing' });
}

/** PaymentIntents payInvoice is confirming in a transaction (keyed by its context). */
const confirmingByCtx = new WeakMap<WriteContext, Set<string>>();
function confirmingIn(ctx: WriteContext): Set<string> {
  let s = confirmingByCtx.get(ctx);
  if (!s) confirmingByCtx.set(ctx, (s = new Set()));
  return s;
}

/**
 * An invoice's PaymentIntent succeeded outside payInvoice (the customer confirmed it with
 * Stripe.js through the invoice's confirmation_secret, or completed 3-D Secure after an attempt
 * required action): the invoice is paid in the same transaction, as on Stripe (invoice.paid,
 * invoice.payment_succeeded, invoice_payment.paid, listeners: the subscription activates).
 * A customer-initiated payment counts as an attempt (attempt_count at least 1).
 */
async function settleFromIntent(ctx: WriteContext, pi: Obj): Promise<void> {
  if (confirmingByCtx.get(ctx)?.has(pi.id)) return;
  const payments = await ctx.tx.scan(ctx.scope, { type: INVOICE_PAYMENT, index: { field: 'payment_intent', value: pi.id }, direction: 'older', limit: 10 });
  const payment = payments.find((r) => !r.deleted && r.data.status === 'open' && r.data.payment?.payment_intent === pi.id);
  if (!payment) return;
  const row = await ctx.tx.getForUpdate(ctx.scope, payment.data.invoice);
  if (!row || row.deleted || row.type !== INVOICE || (row.data.status !== 'open' && row.data.status !== 'uncollectible')) return;
  const customer = (await ctx.tx.get(ctx.scope, row.data.customer))?.data;
  const cctx = customer ? await clockContext(ctx, customer) : ctx;
  const inv = structuredClone(row.data);
  inv.attempted = true;
  inv.attempt_count = Math.max(1, inv.attempt_count ?? 0);
  await markPaid(cctx, row, inv, pi.amount_received ?? inv.amount_remaining, false);
}

/** The open invoice (row locked) whose default invoice_payment is this PaymentIntent's, if any. */
async function invoiceOfIntent(ctx: WriteContext, piId: string): Promise<StoredObject | null> {
  const payments = await ctx.tx.scan(ctx.scope, { type: INVOICE_PAYMENT, index: { field: 'payment_intent', value: piId }, direction: 'older', limit: 10 });
  const payment = payments.find((r) => !r.deleted && r.data.status === 'open' && r.data.payment?.payment_intent === piId);
  if (!payment) return null;
  const row = await ctx.tx.getForUpdate(ctx.scope, payment.data.invoice);
  if (!row || row.deleted || row.type !== INVOICE || (row.data.status !== 'open' && row.data.status !== 'uncollectible')) return null;
  return row;
}

/**
 * An invoice's PaymentIntent failed outside payInvoice (the customer confirmed the invoice's
 * confirmation_secret with Stripe.js and a declining card, or failed the 3-D Secure page): the
 * invoice stays open and records the attempt (invoice.updated, invoice.payment_failed; a renewal's
 * subscription goes past_due), with no automatic retry scheduled for it.
 */
async function failFromIntent(ctx: WriteContext, pi: Obj): Promise<void> {
  if (confirmingByCtx.get(ctx)?.has(pi.id)) return;
  const row = await invoiceOfIntent(ctx, pi.id);
  if (!row) return;
  const customer = (await ctx.tx.get(ctx.scope, row.data.customer))?.data;
  const cctx = customer ? await clockContext(ctx, customer) : ctx;
  await recordFailure(cctx, row, structuredClone(row.data), { automatic: false, actionRequired: false, customerSide: true });
}

registerPaymentIntentListener({ succeeded: settleFromIntent, failed: failFromIntent });

/**
 * An off-session attempt declined for authentication_required (a 3-D Secure card): Stripe Billing
 * leaves the invoice's PaymentIntent in requires_action with the payment method, so the customer
 * can authenticate on-session (the hosted invoice page, Stripe.js handleNextAction, the 3-D Secure
 * page), which pays the invoice (settleFromIntent).
 */
async function intentRequiresAction(ctx: WriteContext, piId: string, paymentMethod: string): Promise<void> {
  const row = await ctx.tx.getForUpdate(ctx.scope, piId);
  if (!row || row.data.status !== 'requires_payment_method') return;
  const { paymentIntents } = await import('../../resources/payment-intents.js');
  const { indexEntries } = await import('../../resources/define.js');
  const next: Obj = { ...row.data, status: 'requires_action', payment_method: paymentMethod, last_payment_error: null };
  next.next_action = threeDSNextAction(ctx, next);
  const data = canonicalize(next);
  await ctx.tx.update(ctx.scope, { id: row.id, version: row.version, data, index: indexEntries(paymentIntents, data) });
  await emitEvent(ctx, 'payment_intent.requires_action', data);
}

async function recordFailure(ctx: WriteContext, row: StoredObject, inv: Obj, f: { automatic: boolean; actionRequired: boolean; noRetry?: boolean; customerSide?: boolean }): Promise<Obj> {
  const now = ctx.now();
  // "Any payment attempt counts as the first attempt, and subsequently only automatic retries
  // increment the attempt count": a customer's own attempt counts only as the first.
  inv.attempt_count = f.customerSide ? Math.max(1, inv.attempt_count) : inv.attempt_count + 1;
  inv.attempted = true;
  let final = false;
  if (f.automatic && !f.noRetry) {
    // Retries count from the first failed automatic attempt.
    const first = (await firstFailure(ctx, inv.id)) ?? now;
    if (first === now) await saveFirstFailure(ctx, inv.id, now);
    const days = dunning.retryDays[inv.attempt_count - 1]; // the n-th retry follows the n-th failure
    if (days !== undefined && inv.collection_method === 'charge_automatically') {
      inv.next_payment_attempt = first + days * 86_400;
      if (inv.next_payment_attempt <= now) inv.next_payment_attempt = now + 1;
      await scheduleTimer(ctx, { kind: 'invoice.retry', key: inv.id, at: inv.next_payment_attempt, testClock: inv.test_clock ?? null });
    } else {
      inv.next_payment_attempt = null;
      final = true;
    }
  }
  const { data } = await writeInvoice(ctx, row, inv, 'invoice.updated');
  if (f.automatic) await setDelinquent(ctx, inv.customer, true);
  await invoiceEvent(ctx, 'invoice.payment_failed', data);
  if (f.actionRequired) {
    await invoiceEvent(ctx, 'invoice.payment_action_required', data);
    await notify('actionRequired', ctx, data);
  }
  await notify('paymentFailed', ctx, data, { final, automatic: f.automatic });
  if (final && dunning.finalAction !== 'none') {
    const latest = (await loadInvoice(ctx, inv.id)).data;
    if (latest.status === 'open') {
      if (dunning.finalAction === 'void') return voidInvoice(ctx, inv.id);
      return markUncollectible(ctx, inv.id);
    }
  }
  return data;
}

/** customer.delinquent: true once an automatic invoice payment fails, false again when an invoice is paid. */
async function setDelinquent(ctx: WriteContext, customerId: string, value: boolean): Promise<void> {
  const row = await ctx.tx.getForUpdate(ctx.scope, customerId);
  if (!row || row.deleted || row.type !== 'customer' || row.data.delinquent === value) return;
  await saveCustomer(ctx, row, { ...structuredClone(row.data), delinquent: value });
}

// The first failure time is kept in a side object (the invoice's shape has no field for it).
async function saveFirstFailure(ctx: WriteContext, invoiceId: string, at: number): Promise<void> {
  const id = `dunning_${invoiceId}`;
  if (await ctx.tx.get(ctx.scope, id)) return;
  await ctx.tx.insert(ctx.scope, { id, type: 'invoice_dunning', created: at, data: { id, first_failure_at: at }, index: [] });
}
async function firstFailure(ctx: ReadContext, invoiceId: string): Promise<number | null> {
  return (await ctx.db.get(ctx.scope, `dunning_${invoiceId}`))?.data.first_failure_at ?? null;
}

/** An automatic payment attempt (finalization follow-up or dunning retry); never throws on declines. */
export async function attemptInvoicePayment(ctx: WriteContext, id: string): Promise<Obj | null> {
  const row = await ctx.tx.getForUpdate(ctx.scope, id);
  if (!row || row.deleted || row.type !== INVOICE) return null;
  if (row.data.status !== 'open' || row.data.collection_method !== 'charge_automatically') return row.data;
  return payInvoice(ctx, id, { automatic: true, off_session: true });
}

// ---------------------------------------------------------------------------------------------
// Void / uncollectible / send

export async function voidInvoice(ctx: WriteContext, id: string): Promise<Obj> {
  const row = await loadInvoice(ctx, id, true);
  const inv = structuredClone(row.data);
  if (inv.status === 'paid') throw INVOICE_ERRORS.voidPaid();
  if (inv.status !== 'open' && inv.status !== 'uncollectible') throw INVOICE_ERRORS.notOpen();
  await cancelTimer(ctx, 'invoice.retry', id);
  await cancelTimer(ctx, 'invoice.pay', id);
  await cancelDueDateTimers(ctx, id);
  inv.status = 'void';
  inv.amount_remaining = 0;
  inv.next_payment_attempt = null;
  inv.status_transitions = { ...inv.status_transitions, voided_at: ctx.now() };
  // A credit applied to the invoice goes back to the customer.
  const applied = (inv.starting_balance ?? 0) - (inv.ending_balance ?? 0);
  if (applied !== 0) await recordCustomerBalance(ctx, inv.customer, { amount: applied, currency: inv.currency, type: 'unapplied_from_invoice', invoice: id });
  const payment = await defaultPayment(ctx, inv);
  if (payment?.data.payment?.payment_intent) {
    const piRow = await ctx.tx.getForUpdate(ctx.scope, payment.data.payment.payment_intent);
    if (piRow && ['requires_payment_method', 'requires_confirmation', 'requires_action'].includes(piRow.data.status)) {
      const pi: Obj = canonicalize({ ...piRow.data, status: 'canceled', canceled_at: ctx.now(), cancellation_reason: 'void_invoice', next_action: null });
      await ctx.tx.update(ctx.scope, { id: piRow.id, version: piRow.version, data: pi, index: [{ field: 'customer', value: pi.customer as string }] });
      await emitEvent(ctx, 'payment_intent.canceled', pi);
    }
    await settlePayment(ctx, inv, 'canceled', null);
  }
  const { data } = await writeInvoice(ctx, row, inv, 'invoice.voided');
  await notify('voided', ctx, data);
  return data;
}

export async function markUncollectible(ctx: WriteContext, id: string): Promise<Obj> {
  const row = await loadInvoice(ctx, id, true);
  const inv = structuredClone(row.data);
  if (inv.status === 'uncollectible') throw INVOICE_ERRORS.alreadyUncollectible();
  if (inv.status !== 'open') throw INVOICE_ERRORS.notOpen();
  await cancelTimer(ctx, 'invoice.retry', id);
  inv.status = 'uncollectible';
  inv.next_payment_attempt = null;
  inv.status_transitions = { ...inv.status_transitions, marked_uncollectible_at: ctx.now() };
  const { data } = await writeInvoice(ctx, row, inv, 'invoice.marked_uncollectible');
  // Stripe: "Paying an invoice or marking it uncollectible via the API will set [delinquent] to false."
  await setDelinquent(ctx, inv.customer, false);
  await notify('markedUncollectible', ctx, data);
  return data;
}

/** Saves an invoice the resources changed (update, credit notes) with invoice.updated. */
export async function saveInvoice(ctx: WriteContext, row: StoredObject, next: Obj, eventType: string | undefined = 'invoice.updated'): Promise<Obj> {
  const { previousAttributes } = await import('../../events/events.js');
  const data = canonicalize(publicInvoice(next));
  const prev = previousAttributes(row.data, data);
  if (!prev) return row.data;
  return (await writeInvoice(ctx, row, data, eventType, prev)).data;
}

// ---------------------------------------------------------------------------------------------
// Timers

registerTimeHandler('invoice.finalize', {
  async run(ctx, item) {
    const row = await ctx.tx.getForUpdate(ctx.scope, item.key);
    if (!row || row.deleted || row.type !== INVOICE || row.data.status !== 'draft' || !row.data.auto_advance) return;
    const inv = await finalizeInvoice(ctx, item.key);
    if (inv.status === 'open' && inv.collection_method === 'charge_automatically') {
      await cancelTimer(ctx, 'invoice.pay', item.key);
      await attemptInvoicePayment(ctx, item.key);
    }
  },
});

registerTimeHandler('invoice.pay', {
  async run(ctx, item) { await attemptInvoicePayment(ctx, item.key); },
});

registerTimeHandler('invoice.retry', {
  async run(ctx, item) { await attemptInvoicePayment(ctx, item.key); },
});

/** An open send_invoice invoice whose due-date timer is current (the due date may have moved since). */
async function dueInvoice(ctx: WriteContext, id: string, at: number, offsetDays: number): Promise<{ row: StoredObject; inv: Obj } | null> {
  const row = await ctx.tx.getForUpdate(ctx.scope, id);
  if (!row || row.deleted || row.type !== INVOICE) return null;
  const inv = row.data;
  if (inv.status !== 'open' || inv.collection_method !== 'send_invoice' || typeof inv.due_date !== 'number') return null;
  if (inv.due_date + offsetDays * 86_400 > at) return null; // the due date moved later (its timer moved too)
  return { row, inv };
}
const splitKey = (key: string): [string, number] => {
  const i = key.lastIndexOf(':');
  return [key.slice(0, i), Number(key.slice(i + 1))];
};

registerTimeHandler('invoice.will_be_due', {
  async run(ctx, item) {
    const [id, days] = splitKey(item.key);
    const found = await dueInvoice(ctx, id, item.at, -days);
    if (found?.inv.auto_advance) await invoiceEvent(ctx, 'invoice.will_be_due', found.inv);
  },
});

registerTimeHandler('invoice.due', {
  async run(ctx, item) {
    const found = await dueInvoice(ctx, item.key, item.at, 0);
    if (!found) return;
    await setDelinquent(ctx, found.inv.customer, true);
    await notify('pastDue', ctx, found.inv);
  },
});

registerTimeHandler('invoice.overdue', {
  async run(ctx, item) {
    const [id, days] = splitKey(item.key);
    const found = await dueInvoice(ctx, id, item.at, days);
    if (found?.inv.auto_advance) await invoiceEvent(ctx, 'invoice.overdue', found.inv);
  },
});

// The past-due limit timer first runs at the due date and moves itself to due_date +
// pastDueDays (the setting may change while the invoice is open); then it acts once.
registerTimeHandler('invoice.past_due_limit', {
  async run(ctx, item) {
    const found = await dueInvoice(ctx, item.key, item.at, 0);
    if (!found) return;
    const { pastDueDays, subscriptionAction } = sendInvoiceDunning;
    const at = found.inv.due_date + pastDueDays * 86_400;
    if (at > item.at) {
      await scheduleTimer(ctx, { kind: 'invoice.past_due_limit', key: item.key, at, testClock: found.inv.test_clock ?? null });
      return;
    }
    if (subscriptionAction !== 'past_due') await notify('pastDueLimit', ctx, found.inv, subscriptionAction);
  },
});
