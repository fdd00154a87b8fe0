// Subscriptions — https://docs.stripe.com/api/subscriptions
// Create, retrieve, update, cancel (DELETE with invoice_now / prorate), resume, list (Stripe's
// filters), search, delete_discount; the object in the current version's shape (periods on each
// item). Behaviour over time (renewals, trial end, cancel_at, incomplete expiry) is the
// subscriptions engine's (src/engine/billing/subscriptions.ts); arithmetic is periods.ts and
// proration.ts; invoices go through subscription-invoicing.ts.
//
// Messages marked "verified" were checked against Stripe; the others are Stripe-style
// sentences of our own.
import { invalidRequest, missingParam, StripeError } from '../api/errors.js';
import { applyMetadata } from '../api/metadata.js';
import { canonicalize } from '../api/render.js';
import { listObjects } from '../api/list.js';
import { checkListExpand, registerNestedExpandable } from '../api/expand.js';
import { STRIPE_SEARCH_FIELDS } from '../api/search-query.js';
import type { Params } from '../api/params.js';
import type { ReadContext, WriteContext } from '../api/context.js';
import { emitEvent } from '../events/events.js';
import type { StoredObject } from '../store/store.js';
import { anchorFromConfig, boundary, DAY, formatDay, nextBoundaryAfter, periodContaining, shortestRecurrence, type Recurrence } from '../engine/billing/periods.js';
import { registerAdvanceLimit } from './test-clocks.js';
import { prorate as prorateAmount } from '../engine/billing/proration.js';
import {
  bindSubscriptionsDef, cancelNow, customerDefaultPaymentMethod, PREVIEW_AT, customerNow, cycleLines, dropOnceDiscounts, isMetered, lockSubscription,
  hasThresholds, meteredLines, prorationsFor, scheduleThresholdCheck, THRESHOLDS_INDEX, recurrenceOf, saveSubscription, statusAfterFirstInvoice, syncTimers,
} from '../engine/billing/subscriptions.js';
import { invoicing, type BillingLine } from '../engine/billing/subscription-invoicing.js';
import '../engine/billing/subscription-invoices-adapter.js';
// create_preview's subscription previews (a module of its own: it needs this one's exports).
void import('./subscription-previews.js');
import { indexEntries, insertObject, missingObject, newObjectBase, type Obj, type Operation, type ResourceDef } from './define.js';
import { buildPrice, missingReference, prices } from './prices.js';
import { buildDiscount, deletedDiscount } from './discounts.js';
import { redeemCoupon } from './coupons.js';
import { couponRefusal } from '../engine/billing/discounts.js';
import { redeemPromotionCode } from './promotion-codes.js';

registerNestedExpandable('subscription', ['discounts', 'items.data.discounts']);

const PAYMENT_BEHAVIORS = ['allow_incomplete', 'default_incomplete', 'error_if_incomplete', 'pending_if_incomplete'];

// ---- Previews
// create_preview builds the subscription a request would create or change without writing
// anything: a context carrying a PreviewDraft makes inline prices (price_data) and discounts
// objects in memory instead of rows (and redeems no coupon).
const PREVIEW = Symbol('subscription preview');
interface PreviewDraft { discounts: Obj[] }
const draftOf = (ctx: ReadContext): PreviewDraft | undefined => (ctx as any)[PREVIEW];

/** A context in which subscription changes write no prices or discounts; `at` fixes the customer's time. */
export function previewContext(ctx: WriteContext, at?: number): WriteContext {
  return Object.assign(Object.create(Object.getPrototypeOf(ctx)), ctx, {
    [PREVIEW]: draftOf(ctx) ?? { discounts: [] },
    ...(at !== undefined ? { [PREVIEW_AT]: at, now: () => at } : {}),
  }) as WriteContext;
}

/** The discount objects a preview context made (they are in no row). */
export function previewDiscounts(ctx: ReadContext): Obj[] { return draftOf(ctx)?.discounts ?? []; }

// ---- Shapes

/** The legacy Plan view of a recurring price (subscription items carry both). */
export function planOf(price: Obj): Obj {
  return {
    id: price.id, object: 'plan', active: price.active, amount: price.unit_amount, amount_decimal: price.unit_amount_decimal,
    billing_scheme: price.billing_scheme, created: price.created, currency: price.currency, interval: price.recurring.interval,
    interval_count: price.recurring.interval_count, livemode: price.livemode, metadata: price.metadata, meter: price.recurring.meter ?? null,
    nickname: price.nickname, product: price.product, tiers_mode: price.tiers_mode, transform_usage: price.transform_quantity,
    trial_period_days: price.recurring.trial_period_days ?? null, usage_type: price.recurring.usage_type,
  };
}

/** A price as embedded in an item: its includable fields left out. */
function embeddedPrice(price: Obj): Obj {
  const { currency_options: _c, tiers: _t, ...rest } = price;
  return rest;
}

function itemsList(sub: Obj, data: Obj[]): Obj {
  return { object: 'list', data, has_more: false, total_count: data.length, url: `/v1/subscription_items?subscription=${sub.id}` };
}

// ---- Parameters

async function resolvePrice(ctx: WriteContext, p: Params, param: string): Promise<Obj> {
  if (p.plan !== undefined && p.price === undefined) p.price = p.plan;
  if (p.price !== undefined && p.price_data !== undefined) {
    throw invalidRequest('You may only specify one of these parameters: price, price_data.', `${param}[price]`);
  }
  if (p.price_data !== undefined) {
    const d = p.price_data;
    const product = await ctx.db.get(ctx.scope, d.product);
    if (!product || product.type !== 'product' || product.deleted) throw missingReference('product', d.product, `${param}[price_data][product]`);
    const price = await buildPrice(ctx, { currency: d.currency, unit_amount: d.unit_amount, unit_amount_decimal: d.unit_amount_decimal, recurring: d.recurring, tax_behavior: d.tax_behavior }, newObjectBase(ctx, prices), d.product, `${param}[price_data]`);
    // Prices created inline are not offered for reuse (Stripe creates them inactive).
    if (draftOf(ctx)) return canonicalize({ ...price, active: false });
    return insertObject(ctx, prices, { ...price, active: false });
  }
  if (p.price === undefined || p.price === null) throw missingParam(`${param}[price]`);
  const row = await ctx.db.get(ctx.scope, p.price);
  if (!row || row.type !== 'price' || row.deleted) throw missingReference('price', p.price, `${param}[price]`);
  const price = row.data;
  if (price.type !== 'recurring') {
    // Verified wording.
    throw invalidRequest(`The price specified is set to \`type=one_time\` but this field only accepts prices with \`type=recurring\`.`, `${param}[price]`);
  }
  if (!price.active) throw invalidRequest(`The price specified is inactive. This field only accepts active prices.`, `${param}[price]`);
  return price;
}

function quantityOf(p: Params, param: string, price: Obj): number {
  if (p.quantity === undefined || p.quantity === null) return 1;
  if (!Number.isInteger(p.quantity) || p.quantity < 0) throw invalidRequest('Invalid non-negative integer', `${param}[quantity]`, 'parameter_invalid_integer');
  if (price.recurring.usage_type === 'metered') {
    throw invalidRequest('You cannot set the quantity for metered plans.', `${param}[quantity]`);
  }
  return p.quantity;
}

async function taxRateIds(ctx: ReadContext, ids: string[] | null | undefined, param: string): Promise<Obj[]> {
  if (!ids) return [];
  const out: Obj[] = [];
  for (const [i, id] of ids.entries()) {
    const r = await ctx.db.get(ctx.scope, id);
    if (!r || r.type !== 'tax_rate' || r.deleted) throw missingReference('tax_rate', id, `${param}[${i}]`);
    out.push(r.data);
  }
  return out;
}

async function newItem(ctx: WriteContext, sub: Obj, p: Params, param: string, created: number): Promise<Obj> {
  const price = await resolvePrice(ctx, p, param);
  return {
    id: ctx.services.ids.id('si'), object: 'subscription_item', billing_thresholds: itemThresholds(p.billing_thresholds, price, `${param}[billing_thresholds]`), created,
    current_period_end: 0, current_period_start: 0, discounts: [],
    metadata: applyMetadata({}, p.metadata, `${param}[metadata]`), plan: planOf(price), price: embeddedPrice(price),
    quantity: quantityOf(p, param, price), subscription: sub.id, tax_rates: await taxRateIds(ctx, p.tax_rates, `${param}[tax_rates]`),
  };
}

/** An item's billing_thresholds ({usage_gte}) from its param; only metered prices count usage. Wording of our own. */
function itemThresholds(v: Params | null | undefined, price: Obj, param: string): Obj | null {
  if (v === undefined || v === null) return null;
  if (!Number.isInteger(v.usage_gte) || v.usage_gte < 1) throw invalidRequest('Invalid positive integer', `${param}[usage_gte]`, 'parameter_invalid_integer');
  if (price.recurring?.usage_type !== 'metered') throw invalidRequest('Usage thresholds (`billing_thresholds[usage_gte]`) can only be set on items with metered prices.', param);
  return { usage_gte: v.usage_gte };
}

/** A subscription's billing_thresholds ({amount_gte, reset_billing_cycle_anchor}) from its param. Wording of our own. */
function subscriptionThresholds(v: Params | null | undefined): Obj | null {
  if (v === undefined || v === null) return null;
  if (v.amount_gte === undefined && v.reset_billing_cycle_anchor === undefined) throw missingParam('billing_thresholds[amount_gte]');
  if (v.amount_gte !== undefined && (!Number.isInteger(v.amount_gte) || v.amount_gte < 1)) {
    throw invalidRequest('Invalid positive integer', 'billing_thresholds[amount_gte]', 'parameter_invalid_integer');
  }
  return { amount_gte: v.amount_gte ?? null, reset_billing_cycle_anchor: v.reset_billing_cycle_anchor ?? null };
}

/** Discounts from `discounts[]` ({coupon} | {promotion_code} | {discount}): stored discount objects, their ids. */
async function discountIds(ctx: WriteContext, list: Params[] | null | undefined, holder: { customer: string; subscription: string }, current: string[] = []): Promise<string[]> {
  if (list === undefined) return current;
  if (list === null) return [];
  const out: string[] = [];
  for (const [i, d] of list.entries()) {
    const param = `discounts[${i}]`;
    if (d.discount) {
      if (!current.includes(d.discount)) throw missingReference('discount', d.discount, `${param}[discount]`);
      out.push(d.discount);
      continue;
    }
    let coupon: Obj;
    let promo: string | null = null;
    const draft = draftOf(ctx);
    if (draft) {
      // A preview redeems nothing: the coupon (or the promotion code's) is read, checked and left as it is.
      const id = d.promotion_code ?? d.coupon;
      const row = id ? await ctx.db.get(ctx.scope, id) : null;
      if (!d.promotion_code && !d.coupon) throw invalidRequest('You must pass either `coupon`, `promotion_code` or `discount`.', param);
      const kind = d.promotion_code ? 'promotion_code' : 'coupon';
      if (!row || row.type !== kind || row.deleted) throw missingReference(d.promotion_code ? 'promotion code' : 'coupon', id, `${param}[${kind}]`);
      const couponRow = kind === 'coupon' ? row : await ctx.db.get(ctx.scope, row.data.promotion.coupon);
      if (!couponRow || couponRow.deleted || couponRefusal(couponRow.data, ctx.now())) throw invalidRequest(`Coupon expired: ${couponRow?.id ?? id}`, `${param}[${kind}]`);
      const discount = buildDiscount(ctx, couponRow.data, kind === 'promotion_code' ? row.id : null, holder);
      draft.discounts.push(canonicalize(discount));
      out.push(discount.id);
      continue;
    }
    if (d.promotion_code) {
      const code = await redeemPromotionCode(ctx, d.promotion_code, { customer: holder.customer }, `${param}[promotion_code]`);
      coupon = (await ctx.db.get(ctx.scope, code.promotion.coupon))!.data;
      promo = code.id;
    } else if (d.coupon) {
      coupon = await redeemCoupon(ctx, d.coupon, `${param}[coupon]`);
    } else {
      throw invalidRequest('You must pass either `coupon`, `promotion_code` or `discount`.', param);
    }
    const discount = buildDiscount(ctx, coupon, promo, holder);
    await ctx.tx.insert(ctx.scope, { id: discount.id, type: 'discount', created: discount.start, data: canonicalize(discount), index: [] });
    out.push(discount.id);
  }
  return out;
}

function checkPaymentBehavior(p: Params, create: boolean): string {
  const b = p.payment_behavior ?? 'allow_incomplete';
  if (create && b === 'pending_if_incomplete') {
    throw invalidRequest('payment_behavior=pending_if_incomplete is only supported when updating a subscription.', 'payment_behavior');
  }
  if (!PAYMENT_BEHAVIORS.includes(b)) throw invalidRequest(`Invalid payment_behavior: ${b}`, 'payment_behavior');
  return b;
}

function trialEndParam(v: unknown, now: number, param = 'trial_end'): number | 'now' | undefined {
  if (v === undefined || v === null) return undefined;
  if (v === 'now') return 'now';
  const t = v as number;
  // Verified pattern: "Invalid timestamp: must be an integer Unix timestamp in the future."
  if (t <= now) throw invalidRequest('Invalid timestamp: must be an integer Unix timestamp in the future.', param);
  if (t > now + 730 * DAY) throw invalidRequest('Invalid timestamp: can be no more than two years in the future.', param);
  return t;
}

function cancellationDetails(p: Params | undefined | null, current: Obj | null): Obj {
  const base = current ?? { comment: null, feedback: null, reason: null };
  if (!p) return base;
  return { ...base, comment: p.comment ?? base.comment, feedback: p.feedback ?? base.feedback };
}

// ---- Create

async function createSubscription(ctx: WriteContext, p: Params, base: Obj): Promise<Obj> {
  if (!p.customer) throw missingParam('customer');
  const customerRow = await ctx.db.get(ctx.scope, p.customer);
  if (!customerRow || customerRow.type !== 'customer' || customerRow.deleted) throw missingReference('customer', p.customer, 'customer');
  const customer = customerRow.data;
  const now = await customerNow(ctx, customer);
  base.created = now;
  if (!p.items || p.items.length === 0) throw missingParam('items');
  const paymentBehavior = checkPaymentBehavior(p, true);
  const collection = p.collection_method ?? 'charge_automatically';
  if (collection === 'send_invoice') {
    if (p.days_until_due === undefined || p.days_until_due === null) {
      // Verified wording.
      throw invalidRequest('Missing required param: days_until_due.', 'days_until_due', 'parameter_missing');
    }
  } else if (p.days_until_due !== undefined && p.days_until_due !== null) {
    throw invalidRequest('Can only specify `days_until_due` when `collection_method` is `send_invoice`.', 'days_until_due');
  }
  if (p.billing_cycle_anchor !== undefined && p.billing_cycle_anchor_config !== undefined) {
    throw invalidRequest('You may only specify one of these parameters: billing_cycle_anchor, billing_cycle_anchor_config.', 'billing_cycle_anchor');
  }
  if (p.trial_end !== undefined && p.trial_period_days !== undefined) {
    throw invalidRequest('You may only specify one of these parameters: trial_end, trial_period_days.', 'trial_end');
  }
  let defaultPm: string | null = null;
  if (p.default_payment_method) {
    const pm = await ctx.db.get(ctx.scope, p.default_payment_method);
    if (!pm || pm.type !== 'payment_method' || pm.deleted) throw missingReference('payment_method', p.default_payment_method, 'default_payment_method');
    if (pm.data.customer !== customer.id) {
      throw invalidRequest(`The customer does not have a payment method with the ID ${p.default_payment_method}. The payment method must be attached to the customer.`, 'default_payment_method');
    }
    defaultPm = pm.id;
  }

  const sub: Obj = {
    ...base,
    application: null, application_fee_percent: p.application_fee_percent ?? null,
    automatic_tax: { disabled_reason: null, enabled: !!p.automatic_tax?.enabled, liability: p.automatic_tax?.enabled ? { type: 'self' } : null },
    billing_cycle_anchor: now, billing_cycle_anchor_config: null,
    billing_mode: p.billing_mode?.type === 'classic'
      ? { flexible: null, type: 'classic', updated_at: now }
      : { flexible: { proration_discounts: p.billing_mode?.flexible?.proration_discounts ?? 'included' }, type: 'flexible', updated_at: now },
    billing_schedules: [], billing_thresholds: subscriptionThresholds(p.billing_thresholds),
    cancel_at: null, cancel_at_period_end: false, canceled_at: null,
    cancellation_details: { comment: null, feedback: null, reason: null },
    collection_method: collection, currency: '', customer: customer.id, customer_account: null,
    days_until_due: collection === 'send_invoice' ? p.days_until_due : null,
    default_payment_method: defaultPm, default_source: null, default_tax_rates: [], description: p.description ?? null,
    discounts: [], ended_at: null,
    invoice_settings: { account_tax_ids: null, issuer: { type: 'self' } },
    items: itemsList(base, []), latest_invoice: null, managed_payments: null,
    metadata: applyMetadata({}, p.metadata), next_pending_invoice_item_invoice: null, on_behalf_of: null,
    pause_collection: null,
    payment_settings: { payment_method_options: null, payment_method_types: null, save_default_payment_method: p.payment_settings?.save_default_payment_method ?? 'off' },
    pending_invoice_item_interval: null, pending_setup_intent: null, pending_update: null, schedule: null,
    start_date: now, status: 'incomplete', test_clock: customer.test_clock ?? null, transfer_data: null,
    trial_end: null, trial_settings: { end_behavior: { missing_payment_method: p.trial_settings?.end_behavior?.missing_payment_method ?? 'create_invoice' } },
    trial_start: null,
  };
  sub.default_tax_rates = await taxRateIds(ctx, p.default_tax_rates, 'default_tax_rates');

  const items: Obj[] = [];
  for (const [i, ip] of (p.items as Params[]).entries()) {
    const it = await newItem(ctx, sub, ip, `items[${i}]`, now);
    if (items.some((x) => x.price.id === it.price.id)) {
      throw invalidRequest('Cannot add multiple subscription items with the same price.', `items[${i}][price]`);
    }
    items.push(it);
  }
  const currency = items[0]!.price.currency;
  if (items.some((it) => it.price.currency !== currency)) {
    throw invalidRequest('All prices on a subscription must have the same currency.', 'items');
  }
  sub.currency = currency;

  // Start date (backdating) and trial.
  let start = now;
  if (p.backdate_start_date !== undefined && p.backdate_start_date !== null) {
    if (p.backdate_start_date > now) throw invalidRequest('backdate_start_date must be in the past.', 'backdate_start_date');
    start = p.backdate_start_date;
  }
  sub.start_date = start;
  let trialEnd: number | null = null;
  const te = trialEndParam(p.trial_end, now);
  if (te === 'now') trialEnd = null;
  else if (te !== undefined) trialEnd = te;
  else if (p.trial_period_days !== undefined && p.trial_period_days !== null) {
    if (p.trial_period_days < 0) throw invalidRequest('Invalid non-negative integer', 'trial_period_days', 'parameter_invalid_integer');
    trialEnd = p.trial_period_days > 0 ? now + p.trial_period_days * DAY : null;
  } else if (p.trial_from_plan) {
    const days = Math.max(0, ...items.map((it) => it.price.recurring.trial_period_days ?? 0));
    if (days > 0) trialEnd = now + days * DAY;
  }

  // Billing cycle anchor.
  const shortest: Recurrence = recurrenceOf(items[0]!.price);
  let anchor = trialEnd ?? start;
  if (p.billing_cycle_anchor_config) {
    const c = p.billing_cycle_anchor_config;
    if (items.some((it) => !['month', 'year'].includes(it.price.recurring.interval))) {
      throw invalidRequest('billing_cycle_anchor_config is only supported for monthly and yearly prices.', 'billing_cycle_anchor_config');
    }
    if (c.month !== undefined && items.some((it) => it.price.recurring.interval !== 'year')) {
      throw invalidRequest('billing_cycle_anchor_config[month] can only be set with yearly prices.', 'billing_cycle_anchor_config[month]');
    }
    anchor = anchorFromConfig(trialEnd ?? now, c);
    sub.billing_cycle_anchor_config = { day_of_month: c.day_of_month, hour: c.hour ?? null, minute: c.minute ?? null, month: c.month ?? null, second: c.second ?? null };
  } else if (p.billing_cycle_anchor !== undefined && p.billing_cycle_anchor !== null) {
    anchor = p.billing_cycle_anchor;
    const from = trialEnd ?? start;
    if (anchor < from) throw invalidRequest('billing_cycle_anchor cannot be earlier than the start of the subscription' + (trialEnd ? "'s trial end." : '.'), 'billing_cycle_anchor');
    const natural = nextBoundaryAfter(from, shortest, from);
    if (anchor > natural) {
      throw invalidRequest(`billing_cycle_anchor cannot be later than next natural billing date (${natural}) for plan`, 'billing_cycle_anchor');
    }
  }
  sub.billing_cycle_anchor = anchor;

  // Item periods.
  for (const it of items) {
    const r = recurrenceOf(it.price);
    if (trialEnd !== null) {
      it.current_period_start = now;
      it.current_period_end = trialEnd;
    } else if (anchor > now) {
      it.current_period_start = start;
      it.current_period_end = anchor;
    } else {
      const per = periodContaining(anchor, r, now);
      it.current_period_start = Math.max(per.start, start);
      it.current_period_end = per.end;
    }
  }
  sub.items = itemsList(sub, items);
  if (trialEnd !== null) {
    sub.status = 'trialing';
    sub.trial_start = now;
    sub.trial_end = trialEnd;
  }
  sub.discounts = await discountIds(ctx, p.discounts, { customer: customer.id, subscription: sub.id });

  // cancel_at / cancel_at_period_end.
  if (p.cancel_at_period_end && p.cancel_at !== undefined && p.cancel_at !== null) {
    throw invalidRequest('You may only specify one of these parameters: cancel_at, cancel_at_period_end.', 'cancel_at');
  }
  if (p.cancel_at !== undefined && p.cancel_at !== null) {
    const at = typeof p.cancel_at === 'number' ? p.cancel_at : Math.min(...items.map((it) => it.current_period_end));
    if (at <= now) throw invalidRequest('Invalid timestamp: must be an integer Unix timestamp in the future.', 'cancel_at');
    sub.cancel_at = at;
  }
  if (p.cancel_at_period_end) {
    sub.cancel_at_period_end = true;
    sub.cancel_at = Math.min(...items.map((it) => it.current_period_end));
  }
  if (p.pause_collection) sub.pause_collection = { behavior: p.pause_collection.behavior, resumes_at: p.pause_collection.resumes_at ?? null };
  return { sub, paymentBehavior, start, now, addInvoiceItems: p.add_invoice_items ?? [], prorate: p.proration_behavior !== 'none' } as any;
}

/** The first invoice's lines: the first period (prorated when the anchor cuts it short), backdated time, add_invoice_items. */
async function firstLines(ctx: WriteContext, sub: Obj, start: number, now: number, prorate: boolean): Promise<BillingLine[]> {
  if (sub.status === 'trialing') {
    // A $0 invoice for the trial period, one line per item (Stripe: "Trial period for Basic").
    const out: BillingLine[] = [];
    for (const it of sub.items.data) {
      const name = (await ctx.db.get(ctx.scope, it.price.product))?.data.name ?? it.price.product;
      out.push({ price: it.price, quantity: it.quantity, amount: 0, description: `Trial period for ${name}`, period: { start: it.current_period_start, end: it.current_period_end }, proration: false, subscription_item: it.id });
    }
    return out;
  }
  const lines = await cycleLines(ctx, sub, sub.items.data);
  for (const l of lines) {
    const it = sub.items.data.find((x: Obj) => x.id === l.subscription_item);
    if (sub.billing_cycle_anchor <= now || it.current_period_end !== sub.billing_cycle_anchor) continue;
    // Anchor in the future: the first period runs from the start to the anchor, prorated against
    // the full period that ends at the anchor (or free with proration_behavior=none).
    const full = periodContaining(sub.billing_cycle_anchor, recurrenceOf(it.price), start);
    l.amount = prorate ? prorateAmount(l.amount, full, start) : 0;
    l.proration = prorate;
    l.description = `Remaining time on ${l.description.replace(/ \(at .*\)$/, '')} after ${formatDay(start)}`;
  }
  // Backdated: the periods between the start date and the current period are billed too.
  if (start < now) {
    for (const it of sub.items.data) {
      if (it.current_period_start <= start) continue;
      const base = lines.find((l) => l.subscription_item === it.id);
      if (!base) continue;
      const r = recurrenceOf(it.price);
      let t = start;
      while (t < it.current_period_start) {
        const end = Math.min(nextBoundaryAfter(sub.billing_cycle_anchor, r, t), it.current_period_start);
        const per = periodContaining(sub.billing_cycle_anchor, r, t);
        const share = (end - t) / (per.end - per.start);
        lines.push({ ...base, amount: Math.round(base.amount * share), period: { start: t, end }, proration: share < 1 });
        t = end;
      }
    }
  }
  return lines;
}

async function addInvoiceItemLines(ctx: WriteContext, sub: Obj, list: Params[], now: number): Promise<BillingLine[]> {
  const out: BillingLine[] = [];
  for (const [i, a] of list.entries()) {
    const param = `add_invoice_items[${i}]`;
    let price: Obj;
    if (a.price_data) {
      const d = a.price_data;
      const built = await buildPrice(ctx, { currency: d.currency, unit_amount: d.unit_amount, unit_amount_decimal: d.unit_amount_decimal, tax_behavior: d.tax_behavior }, newObjectBase(ctx, prices), d.product, `${param}[price_data]`);
      price = draftOf(ctx) ? canonicalize({ ...built, active: false }) : await insertObject(ctx, prices, { ...built, active: false });
    } else {
      if (!a.price) throw missingParam(`${param}[price]`);
      const row = await ctx.db.get(ctx.scope, a.price);
      if (!row || row.type !== 'price' || row.deleted) throw missingReference('price', a.price, `${param}[price]`);
      price = row.data;
      if (price.type !== 'one_time') {
        throw invalidRequest('The price specified is set to `type=recurring` but this field only accepts prices with `type=one_time`.', `${param}[price]`);
      }
    }
    const quantity = a.quantity ?? 1;
    const name = (await ctx.db.get(ctx.scope, price.product))?.data.name ?? price.product;
    out.push({ price, quantity, amount: (price.unit_amount ?? 0) * quantity, description: name, period: { start: now, end: now }, proration: false, subscription_item: null });
  }
  return out;
}

/** POST /v1/subscriptions (also how a schedule starts its subscription). */
export async function createSubscriptionRoute(outer: WriteContext, p: Params): Promise<Obj> {
  // Everything the subscription writes (its invoice, payment, events) happens in its customer's time.
  const ctx = p.customer ? await customerTime(outer, p.customer) : outer;
  const built: any = await createSubscription(ctx, p, newObjectBase(ctx, subscriptions));
  const sub: Obj = canonicalize(built.sub);
  const firstStatus = sub.status;
  // Stored first without an event: the invoice refers to it; customer.subscription.created
  // carries the state the request ends in (active, trialing or incomplete), with its latest_invoice.
  await ctx.tx.insert(ctx.scope, { id: sub.id, type: 'subscription', created: sub.created, data: sub, index: indexEntries(subscriptions, sub) });
  const lines = [
    ...(await firstLines(ctx, sub, built.start, built.now, built.prorate)),
    ...(await addInvoiceItemLines(ctx, sub, built.addInvoiceItems, built.now)),
  ];
  const collect = built.paymentBehavior === 'default_incomplete' ? 'none' : 'now';
  const outcome = await invoicing().invoice(ctx, { subscription: sub, billing_reason: 'subscription_create', lines, includePending: true, collect });
  // error_if_incomplete: nothing is created (the transaction rolls back, unlike a committed decline).
  if (outcome.error && built.paymentBehavior === 'error_if_incomplete') throw new StripeError(outcome.error.status, outcome.error.fields);
  if (outcome.requiresAction && built.paymentBehavior === 'error_if_incomplete') {
    throw new StripeError(402, { type: 'card_error', code: 'subscription_payment_intent_requires_action', message: 'Payment for this subscription requires additional user action before it can be completed successfully. Payment can be completed using the PaymentIntent associated with `subscription.latest_invoice`. Additional information is available here: https://stripe.com/docs/billing/subscriptions/overview#requires-action' });
  }
  const latest = (await ctx.tx.getForUpdate(ctx.scope, sub.id))!;
  const next = structuredClone(latest.data);
  next.latest_invoice = outcome.invoice.id;
  next.status = statusAfterFirstInvoice(outcome, { ...next, status: firstStatus });
  await dropOnceDiscounts(ctx, next, outcome.invoice);
  const data = canonicalize(next);
  await ctx.tx.update(ctx.scope, { id: sub.id, version: latest.version, data, index: indexEntries(subscriptions, data) });
  await emitEvent(ctx, 'customer.subscription.created', data);
  await syncTimers(ctx, data);
  return data;
}

/**
 * The subscription POST /v1/subscriptions would create with `p` and its first invoice's lines, in
 * a preview context (previewContext): nothing is written.
 */
export async function draftSubscription(ctx: WriteContext, p: Params): Promise<{ sub: Obj; lines: BillingLine[] }> {
  if (!draftOf(ctx)) throw new Error('draftSubscription needs a preview context');
  const built: any = await createSubscription(ctx, p, newObjectBase(ctx, subscriptions));
  const sub: Obj = canonicalize(built.sub);
  const lines = [
    ...(await firstLines(ctx, sub, built.start, built.now, built.prorate)),
    ...(await addInvoiceItemLines(ctx, sub, built.addInvoiceItems, built.now)),
  ];
  return { sub, lines };
}

/** A context whose now() is the customer's time (its test clock's), for routes acting on its objects. */
export async function customerTime(ctx: WriteContext, customerId: string): Promise<WriteContext> {
  const row = await ctx.db.get(ctx.scope, customerId);
  if (!row || row.type !== 'customer' || row.deleted) return ctx;
  const t = await customerNow(ctx, row.data);
  if (t === ctx.now()) return ctx;
  return Object.assign(Object.create(Object.getPrototypeOf(ctx)), ctx, { now: () => t }) as WriteContext;
}

/** The subscription `id`, row locked (404 if missing), and a context in its customer's time: what each action route starts from. */
async function lockedInCustomerTime(outer: WriteContext, id: string): Promise<{ row: StoredObject; ctx: WriteContext }> {
  const row = await lockSubscription(outer, id);
  if (!row) throw await missingObject(outer, 'subscription', 'subscription', id);
  return { row, ctx: await customerTime(outer, row.data.customer) };
}

// ---- Update

export async function applyItemChanges(ctx: WriteContext, sub: Obj, list: Params[], at: number): Promise<void> {
  const items: Obj[] = sub.items.data;
  const original: Obj[] = [...items];
  for (const [i, ip] of list.entries()) {
    const param = `items[${i}]`;
    if (ip.id) {
      const idx = items.findIndex((x) => x.id === ip.id);
      if (idx < 0) throw invalidRequest(`Subscription item ${ip.id} does not belong to subscription ${sub.id}.`, `${param}[id]`);
      if (ip.deleted) { items.splice(idx, 1); continue; }
      const it = { ...items[idx]! };
      if (ip.price !== undefined || ip.price_data !== undefined || ip.plan !== undefined) {
        const price = await resolvePrice(ctx, ip, param);
        it.price = embeddedPrice(price);
        it.plan = planOf(price);
      }
      if (ip.quantity !== undefined) it.quantity = quantityOf(ip, param, it.price);
      if (ip.billing_thresholds !== undefined) it.billing_thresholds = itemThresholds(ip.billing_thresholds, it.price, `${param}[billing_thresholds]`);
      if (ip.metadata !== undefined) it.metadata = applyMetadata(it.metadata, ip.metadata, `${param}[metadata]`);
      if (ip.tax_rates !== undefined) it.tax_rates = await taxRateIds(ctx, ip.tax_rates, `${param}[tax_rates]`);
      items[idx] = it;
    } else {
      if (ip.deleted) throw missingParam(`${param}[id]`);
      const it = await newItem(ctx, sub, ip, param, at);
      // An added item joins its siblings' current period (one that ends now, at a phase boundary,
      // renews with them at once); an item of another interval starts its own.
      it.current_period_start = at;
      const sibling = original.find((o) => sameInterval(o, it));
      it.current_period_end = sibling ? sibling.current_period_end : nextBoundaryAfter(sub.billing_cycle_anchor, recurrenceOf(it.price), at);
      items.push(it);
    }
  }
  if (items.length === 0) {
    throw invalidRequest('A subscription must have at least one active plan. To cancel a subscription, please use the cancel API endpoint on /v1/subscriptions.', 'items');
  }
  const seen = new Set<string>();
  for (const it of items) {
    if (seen.has(it.price.id)) throw invalidRequest('Cannot add multiple subscription items with the same price.', 'items');
    seen.add(it.price.id);
    if (it.price.currency !== sub.currency) throw invalidRequest('All prices on a subscription must have the same currency.', 'items');
  }
  sub.items = itemsList(sub, items);
}

const sameInterval = (a: Obj, b: Obj) => a.price.recurring.interval === b.price.recurring.interval && a.price.recurring.interval_count === b.price.recurring.interval_count;

/** Applies an update at `at`: items with prorations, trial, anchor, cancellation, settings. Returns the lines to bill now, if any. */
export async function updateSubscription(outer: WriteContext, row: StoredObject, p: Params): Promise<Obj> {
  const ctx = await customerTime(outer, row.data.customer);
  const current = row.data;
  const sub: Obj = structuredClone(current);
  const customer = (await ctx.db.get(ctx.scope, sub.customer))!.data;
  const now = await customerNow(ctx, customer);
  if (['canceled', 'incomplete_expired'].includes(sub.status)) {
    const allowed = ['cancellation_details', 'metadata', 'expand'];
    const other = Object.keys(p).find((k) => !allowed.includes(k));
    // Verified wording.
    if (other) throw invalidRequest('A canceled subscription can only update its cancellation_details and metadata.', other);
  }
  const paymentBehavior = checkPaymentBehavior(p, false);
  const behavior: string = p.proration_behavior ?? 'create_prorations';
  const at: number = p.proration_date ?? now;
  if (p.proration_date !== undefined) {
    const start = Math.min(...sub.items.data.map((it: Obj) => it.current_period_start));
    if (p.proration_date < start || p.proration_date > Math.max(...sub.items.data.map((it: Obj) => it.current_period_end))) {
      throw invalidRequest('proration_date must be within the current billing period.', 'proration_date');
    }
  }

  sub.metadata = applyMetadata(sub.metadata, p.metadata);
  if (p.description !== undefined) sub.description = p.description;
  if (p.cancellation_details !== undefined) sub.cancellation_details = cancellationDetails(p.cancellation_details, sub.cancellation_details);
  if (p.default_payment_method !== undefined) {
    if (p.default_payment_method === null) sub.default_payment_method = null;
    else {
      const pm = await ctx.db.get(ctx.scope, p.default_payment_method);
      if (!pm || pm.type !== 'payment_method' || pm.deleted) throw missingReference('payment_method', p.default_payment_method, 'default_payment_method');
      if (pm.data.customer !== sub.customer) {
        throw invalidRequest(`The customer does not have a payment method with the ID ${p.default_payment_method}. The payment method must be attached to the customer.`, 'default_payment_method');
      }
      sub.default_payment_method = pm.id;
    }
  }
  if (p.collection_method !== undefined) {
    sub.collection_method = p.collection_method;
    if (p.collection_method === 'send_invoice') {
      sub.days_until_due = p.days_until_due ?? sub.days_until_due;
      if (sub.days_until_due === null) throw invalidRequest('Missing required param: days_until_due.', 'days_until_due', 'parameter_missing');
    } else sub.days_until_due = null;
  } else if (p.days_until_due !== undefined) {
    if (sub.collection_method !== 'send_invoice') throw invalidRequest('Can only specify `days_until_due` when `collection_method` is `send_invoice`.', 'days_until_due');
    sub.days_until_due = p.days_until_due;
  }
  if (p.default_tax_rates !== undefined) sub.default_tax_rates = await taxRateIds(ctx, p.default_tax_rates, 'default_tax_rates');
  if (p.billing_thresholds !== undefined) sub.billing_thresholds = subscriptionThresholds(p.billing_thresholds);
  if (p.discounts !== undefined) sub.discounts = await discountIds(ctx, p.discounts, { customer: sub.customer, subscription: sub.id }, sub.discounts);
  if (p.pause_collection !== undefined) {
    sub.pause_collection = p.pause_collection === null ? null : { behavior: p.pause_collection.behavior, resumes_at: p.pause_collection.resumes_at ?? null };
  }
  if (p.trial_settings?.end_behavior?.missing_payment_method) sub.trial_settings = { end_behavior: { missing_payment_method: p.trial_settings.end_behavior.missing_payment_method } };

  // Items.
  const before = structuredClone(sub.items.data) as Obj[];
  if (p.items !== undefined) await applyItemChanges(ctx, sub, p.items, at);
  const intervalChanged = sub.items.data.some((it: Obj) => {
    const old = before.find((b) => b.id === it.id);
    return old ? !sameInterval(old, it) : false;
  });

  // Trial changes.
  let trialEnded = false;
  if (p.trial_end !== undefined) {
    const te = trialEndParam(p.trial_end, now);
    if (te === 'now') {
      if (sub.status === 'trialing') { sub.trial_end = now; trialEnded = true; }
    } else if (te !== undefined) {
      if (!['trialing', 'active'].includes(sub.status)) throw invalidRequest('You cannot set a trial on a subscription that is not active.', 'trial_end');
      sub.status = 'trialing';
      sub.trial_start = sub.trial_start ?? now;
      sub.trial_end = te;
      for (const it of sub.items.data) it.current_period_end = te;
      sub.billing_cycle_anchor = te;
    }
  }

  let billNow: BillingLine[] = [];
  let reason: 'subscription_update' = 'subscription_update';
  const resetAnchor = p.billing_cycle_anchor === 'now' || intervalChanged || trialEnded;
  if (p.billing_cycle_anchor === 'unchanged' && intervalChanged) {
    throw invalidRequest('billing_cycle_anchor cannot be `unchanged` when switching to a price with a different interval.', 'billing_cycle_anchor');
  }
  if (resetAnchor) {
    // The period restarts now: credit the unused time of the old items, bill the new period in full, now.
    const credits = behavior === 'none' || trialEnded ? [] : (await prorationsFor(ctx, { ...sub, status: current.status }, before, [], at));
    if (trialEnded) sub.status = 'active';
    sub.billing_cycle_anchor = now;
    for (const it of sub.items.data) {
      it.current_period_start = now;
      it.current_period_end = nextBoundaryAfter(now, recurrenceOf(it.price), now);
    }
    billNow = [...credits, ...(await cycleLines(ctx, sub, sub.items.data))];
    reason = 'subscription_update';
  } else if (p.items !== undefined && behavior !== 'none') {
    const lines = await prorationsFor(ctx, sub, before, sub.items.data, at);
    if (behavior === 'always_invoice') billNow = lines;
    else for (const l of lines) await invoicing().pendingItem(ctx, sub, l);
  }

  // Cancellation scheduling.
  if (p.cancel_at !== undefined) {
    if (p.cancel_at === null) { sub.cancel_at = null; sub.cancel_at_period_end = false; sub.canceled_at = null; }
    else {
      const t = typeof p.cancel_at === 'number' ? p.cancel_at : Math.min(...sub.items.data.map((it: Obj) => it.current_period_end));
      if (t <= now) throw invalidRequest('Invalid timestamp: must be an integer Unix timestamp in the future.', 'cancel_at');
      sub.cancel_at = t; sub.cancel_at_period_end = false; sub.canceled_at = now;
    }
  }
  if (p.cancel_at_period_end !== undefined) {
    if (p.cancel_at_period_end) {
      sub.cancel_at_period_end = true;
      sub.cancel_at = Math.min(...sub.items.data.map((it: Obj) => it.current_period_end));
      sub.canceled_at = now;
    } else if (sub.cancel_at_period_end) {
      sub.cancel_at_period_end = false; sub.cancel_at = null; sub.canceled_at = null;
    }
  }
  if (sub.cancel_at !== null && p.cancellation_details !== undefined) sub.cancellation_details = cancellationDetails(p.cancellation_details, sub.cancellation_details);

  if (billNow.length || (p.proration_behavior === 'always_invoice' && p.items !== undefined)) {
    const collect = paymentBehavior === 'default_incomplete' ? 'none' : 'now';
    const outcome = await invoicing().invoice(ctx, { subscription: sub, billing_reason: reason, lines: billNow, includePending: true, collect });
    if (outcome.error && paymentBehavior === 'error_if_incomplete') throw new StripeError(outcome.error.status, outcome.error.fields);
    if (outcome.state !== 'paid' && paymentBehavior === 'pending_if_incomplete') {
      // The changes wait for the payment: the subscription keeps its items, pending_update records them.
      const pending = structuredClone(current);
      pending.latest_invoice = outcome.invoice.id;
      pending.pending_update = {
        billing_cycle_anchor: resetAnchor ? now : null, cancel_at_period_end: null, discount: null, discounts: null,
        expires_at: now + 23 * 3600, metadata: null,
        subscription_items: sub.items.data, trial_end: p.trial_end === undefined ? null : sub.trial_end, trial_from_plan: null,
      };
      return saveSubscription(ctx, row, pending);
    }
    sub.latest_invoice = outcome.invoice.id;
    if (outcome.state !== 'paid' && sub.status === 'active' && sub.collection_method === 'charge_automatically' && paymentBehavior === 'allow_incomplete') sub.status = 'past_due';
    await dropOnceDiscounts(ctx, sub, outcome.invoice);
  }
  const saved = await saveSubscription(ctx, row, sub);
  // New thresholds are checked against the usage so far at the next whole hour.
  if (p.billing_thresholds !== undefined || (p.items ?? []).some((i: Params) => i.billing_thresholds !== undefined)) await scheduleThresholdCheck(ctx, saved, now);
  return saved;
}

// ---- Cancel, resume, discount

async function cancelRoute(ctx: WriteContext, id: string, p: Params): Promise<Obj> {
  const row = await lockSubscription(ctx, id);
  if (!row) throw await missingObject(ctx, 'subscription', 'subscription', id);
  if (['canceled', 'incomplete_expired'].includes(row.data.status)) {
    // Stripe-style wording of our own.
    throw invalidRequest(`This subscription has already been canceled: ${id}`, undefined, 'resource_missing', 404);
  }
  const customer = (await ctx.db.get(ctx.scope, row.data.customer))!.data;
  const now = await customerNow(ctx, customer);
  const at = Object.assign(Object.create(Object.getPrototypeOf(ctx)), ctx, { now: () => now }) as WriteContext;
  return cancelNow(at, row, cancellationDetails(p.cancellation_details, row.data.cancellation_details), { invoiceNow: !!p.invoice_now, prorate: !!p.prorate });
}

async function resumeRoute(outer: WriteContext, id: string, p: Params): Promise<Obj> {
  const { row, ctx } = await lockedInCustomerTime(outer, id);
  if (row.data.status !== 'paused') {
    throw invalidRequest('Only subscriptions with `status=paused` can be resumed.', undefined);
  }
  const customer = (await ctx.db.get(ctx.scope, row.data.customer))!.data;
  const now = await customerNow(ctx, customer);
  const sub = structuredClone(row.data);
  const anchorNow = (p.billing_cycle_anchor ?? 'now') === 'now';
  sub.status = 'active';
  delete sub.status_details;
  if (anchorNow) {
    sub.billing_cycle_anchor = now;
    for (const it of sub.items.data) {
      it.current_period_start = now;
      it.current_period_end = nextBoundaryAfter(now, recurrenceOf(it.price), now);
    }
  } else {
    for (const it of sub.items.data) {
      const per = periodContaining(sub.billing_cycle_anchor, recurrenceOf(it.price), now);
      it.current_period_start = now;
      it.current_period_end = per.end;
    }
  }
  const lines = await cycleLines(ctx, sub, sub.items.data);
  if (!anchorNow && p.proration_behavior !== 'none') {
    for (const l of lines) {
      const it = sub.items.data.find((x: Obj) => x.id === l.subscription_item);
      const per = periodContaining(sub.billing_cycle_anchor, recurrenceOf(it.price), now);
      l.amount = Math.round(l.amount * (per.end - now) / (per.end - per.start));
      l.proration = true;
    }
  }
  const outcome = await invoicing().invoice(ctx, { subscription: sub, billing_reason: 'subscription_update', lines, includePending: true, collect: 'now' });
  sub.latest_invoice = outcome.invoice.id;
  if (outcome.state !== 'paid' && sub.collection_method === 'charge_automatically') sub.status = 'past_due';
  const saved = await saveSubscription(ctx, row, sub);
  await emitEvent(ctx, 'customer.subscription.resumed', saved);
  return saved;
}

// POST /v1/subscriptions/{id}/pause (API 2026-09-30.endive): the subscription goes to `paused`
// (status_details.paused: pause_requested), stops renewing and invoicing until resumed. What was
// billed for the rest of the period is credited (bill_for.unused_time_from: now, the whole
// current period from item_current_period_start, or none) and metered usage so far is billed
// (bill_for.outstanding_usage_through: now | none), as pending invoice items (the resumption
// invoice picks them up) or on an invoice now (invoicing_behavior=invoice). Stripe's conditions:
// flexible billing mode, no attached schedule; ours besides: status active or trialing,
// charge_automatically (resume is only for charge_automatically). Wording of our own.
async function pauseRoute(outer: WriteContext, id: string, p: Params): Promise<Obj> {
  const { row, ctx } = await lockedInCustomerTime(outer, id);
  const sub: Obj = structuredClone(row.data);
  if (sub.schedule) {
    throw invalidRequest(`You cannot pause a subscription that is attached to a subscription schedule (\`${sub.schedule}\`). Release the schedule first.`);
  }
  if (sub.billing_mode?.type !== 'flexible') {
    throw invalidRequest('Only subscriptions with `billing_mode[type]=flexible` can be paused. Migrate the subscription to flexible billing mode first.');
  }
  if (!['active', 'trialing'].includes(sub.status)) {
    throw invalidRequest(`You cannot pause a subscription with \`status=${sub.status}\`. Only subscriptions with \`status=active\` or \`status=trialing\` can be paused.`);
  }
  if (sub.collection_method !== 'charge_automatically') {
    throw invalidRequest('Only subscriptions with `collection_method=charge_automatically` can be paused.');
  }
  const now = ctx.now();
  const unused: string = p.bill_for?.unused_time_from?.type ?? 'now';
  const usage: string = p.bill_for?.outstanding_usage_through?.type ?? 'now';
  const lines: BillingLine[] = [];
  if (unused !== 'none') {
    for (const it of sub.items.data as Obj[]) {
      if (isMetered(it.price)) continue;
      const from = unused === 'item_current_period_start' ? it.current_period_start : now;
      lines.push(...await prorationsFor(ctx, sub, [it], [], from));
    }
  }
  if (usage === 'now' && sub.status !== 'trialing') {
    const metered = (sub.items.data as Obj[]).filter((it) => isMetered(it.price));
    lines.push(...(await meteredLines(ctx, sub, metered, (it) => ({ start: it.current_period_start, end: now }))).filter((l) => l.quantity > 0));
    // The usage billed now is not billed again: the metered items' periods restart at the pause.
    for (const it of metered) it.current_period_start = now;
  }
  if ((p.invoicing_behavior ?? 'pending_invoice_item') === 'invoice' && lines.length) {
    const outcome = await invoicing().invoice(ctx, { subscription: sub, billing_reason: 'subscription_update', lines, includePending: true, collect: 'now' });
    sub.latest_invoice = outcome.invoice.id;
  } else {
    for (const l of lines) await invoicing().pendingItem(ctx, sub, l);
  }
  sub.status = 'paused';
  sub.status_details = { paused: { subscription: { type: 'pause_requested' }, transitioned_at: now, type: 'subscription' } };
  const latest = (await lockSubscription(ctx, id))!;
  const saved = await saveSubscription(ctx, latest, { ...structuredClone(latest.data), status: sub.status, status_details: sub.status_details, latest_invoice: sub.latest_invoice, items: sub.items });
  await emitEvent(ctx, 'customer.subscription.paused', saved);
  return saved;
}

// POST /v1/subscriptions/{id}/migrate: classic → flexible billing mode (never back: "You can't
// migrate a subscription from flexible billing mode to classic billing mode"). Wording of our own.
async function migrateRoute(outer: WriteContext, id: string, p: Params): Promise<Obj> {
  const { row, ctx } = await lockedInCustomerTime(outer, id);
  const sub: Obj = structuredClone(row.data);
  if (['canceled', 'incomplete_expired'].includes(sub.status)) {
    throw invalidRequest(`You cannot migrate a subscription with \`status=${sub.status}\`.`);
  }
  if (sub.billing_mode?.type === 'flexible') {
    throw invalidRequest('This subscription already uses `billing_mode[type]=flexible`.', 'billing_mode[type]');
  }
  sub.billing_mode = { flexible: { proration_discounts: p.billing_mode?.flexible?.proration_discounts ?? 'included' }, type: 'flexible', updated_at: ctx.now() };
  return saveSubscription(ctx, row, sub);
}

async function deleteDiscountRoute(outer: WriteContext, id: string): Promise<Obj> {
  const { row, ctx } = await lockedInCustomerTime(outer, id);
  const ids: string[] = row.data.discounts;
  if (!ids.length) throw invalidRequest(`No active discount for subscription: ${id}`, undefined, 'resource_missing', 404);
  const first = (await ctx.db.get(ctx.scope, ids[0]!))!.data;
  await saveSubscription(ctx, row, { ...structuredClone(row.data), discounts: [] });
  return deletedDiscount(first);
}

// ---- Lists

const STATUSES = ['active', 'all', 'canceled', 'ended', 'incomplete', 'incomplete_expired', 'past_due', 'paused', 'trialing', 'unpaid'];

function rangeMatch(v: number, f: unknown): boolean {
  if (f === undefined) return true;
  if (typeof f === 'number') return v === f;
  const r = f as Obj;
  return (r.gt === undefined || v > r.gt) && (r.gte === undefined || v >= r.gte) && (r.lt === undefined || v < r.lt) && (r.lte === undefined || v <= r.lte);
}

function listFilter(p: Params): (d: Obj) => boolean {
  const status = p.status;
  if (status !== undefined && !STATUSES.includes(status)) throw invalidRequest(`Invalid status: must be one of ${STATUSES.join(', ')}`, 'status');
  const price = p.price ?? p.plan;
  return (d) => {
    if (status === undefined) { if (['canceled', 'incomplete_expired'].includes(d.status)) return false; }
    else if (status === 'ended') { if (!['canceled', 'incomplete_expired'].includes(d.status)) return false; }
    else if (status !== 'all' && d.status !== status) return false;
    if (p.collection_method !== undefined && d.collection_method !== p.collection_method) return false;
    if (p.test_clock !== undefined && d.test_clock !== p.test_clock) return false;
    if (price !== undefined && !d.items.data.some((it: Obj) => it.price.id === price)) return false;
    if (p.automatic_tax?.enabled !== undefined && d.automatic_tax.enabled !== p.automatic_tax.enabled) return false;
    if (p.current_period_start !== undefined && !d.items.data.some((it: Obj) => rangeMatch(it.current_period_start, p.current_period_start))) return false;
    if (p.current_period_end !== undefined && !d.items.data.some((it: Obj) => rangeMatch(it.current_period_end, p.current_period_end))) return false;
    return true;
  };
}

function operations(def: ResourceDef): Operation[] {
  return [
    { method: 'POST', path: def.path, write: true, handler: (ctx, p) => createSubscriptionRoute(ctx as WriteContext, p) },
    {
      method: 'POST', path: `${def.path}/{id}`, write: true,
      handler: async (ctx, p, path) => {
        const w = ctx as WriteContext;
        const row = await lockSubscription(w, path.id!);
        if (!row) throw await missingObject(w, 'subscription', 'subscription', path.id!);
        return updateSubscription(w, row, p);
      },
    },
    { method: 'DELETE', path: `${def.path}/{id}`, write: true, handler: (ctx, p, path) => cancelRoute(ctx as WriteContext, path.id!, p) },
    { method: 'POST', path: `${def.path}/{id}/resume`, write: true, handler: (ctx, p, path) => resumeRoute(ctx as WriteContext, path.id!, p) },
    { method: 'POST', path: `${def.path}/{id}/pause`, write: true, handler: (ctx, p, path) => pauseRoute(ctx as WriteContext, path.id!, p) },
    { method: 'POST', path: `${def.path}/{id}/migrate`, write: true, handler: (ctx, p, path) => migrateRoute(ctx as WriteContext, path.id!, p) },
    { method: 'DELETE', path: `${def.path}/{id}/discount`, write: true, handler: (ctx, _p, path) => deleteDiscountRoute(ctx as WriteContext, path.id!) },
    {
      method: 'GET', path: def.path, write: false, returnsList: true,
      handler: async (ctx, p) => {
        checkListExpand('subscription', p.expand);
        const filter = listFilter(p);
        const { rows, has_more } = await listObjects(ctx, {
          type: 'subscription', url: def.path, limit: p.limit, starting_after: p.starting_after, ending_before: p.ending_before, created: p.created,
          ...(p.customer !== undefined ? { index: { field: 'customer', value: p.customer } } : {}), filter,
        });
        return { object: 'list', data: rows.map((r) => r.data), has_more, url: def.path };
      },
    },
  ];
}

export const subscriptions: ResourceDef = {
  object: 'subscription',
  prefix: 'sub',
  path: '/v1/subscriptions',
  events: { created: 'customer.subscription.created', updated: 'customer.subscription.updated', deleted: 'customer.subscription.deleted' },
  search: STRIPE_SEARCH_FIELDS.subscriptions,
  index: (s) => [
    { field: 'customer', value: s.customer },
    ...s.items.data.map((it: Obj) => ({ field: 'item', value: it.id })),
    ...(s.test_clock ? [{ field: 'test_clock', value: s.test_clock }] : []),
    ...(hasThresholds(s) ? [{ field: THRESHOLDS_INDEX, value: s.customer }] : []),
  ],
  standard: { create: false, update: false, delete: false, list: false },
  operations,
};

bindSubscriptionsDef(subscriptions);

// A test clock with subscriptions advances at most two intervals of its shortest subscription
// at a time (API reference, frozen_time: "Cannot be more than two intervals in the future from
// the shortest subscription in this test clock"). Stripe-style wording of our own.
registerAdvanceLimit(async (ctx, clock, target) => {
  const rows = await ctx.db.scan(ctx.scope, { type: 'subscription', index: { field: 'test_clock', value: clock.id }, direction: 'newer', limit: 1000 });
  const live = rows.filter((r) => !r.deleted && !['canceled', 'incomplete_expired'].includes(r.data.status));
  const shortest = shortestRecurrence(live.flatMap((r) => r.data.items.data.map((it: Obj) => recurrenceOf(it.price))), clock.frozen_time);
  if (!shortest) return;
  const limit = boundary(clock.frozen_time, shortest, 2);
  if (target > limit) {
    const every = shortest.interval_count === 1 ? shortest.interval : `${shortest.interval_count} ${shortest.interval}s`;
    throw invalidRequest(`The frozen_time cannot be more than two intervals of the shortest subscription on this test clock (every ${every}) after its current frozen_time (at most ${limit}).`, 'frozen_time');
  }
});

export { syncTimers, customerDefaultPaymentMethod };
