// Invoices — https://docs.stripe.com/api/invoices
// create (a draft for a customer, pending invoice items pulled in with
// pending_invoice_items_behavior=include), retrieve, update, delete (drafts), list (customer,
// status, subscription, collection_method, due_date, created), search, finalize, pay, send,
// void, mark_uncollectible, lines (GET /v1/invoices/{id}/lines, POST …/lines/{line}),
// add_lines / remove_lines / update_lines, and create_preview.
// The behaviour lives in the engine (src/engine/billing/invoices.ts); this module maps
// parameters onto it. `payments` (the invoice_payment list) is computed when expanded;
// `confirmation_secret` is stored and returned only when expanded, as in Stripe.
import { loadTaxRates } from './tax-rates.js';
import { invalidRequest, missingParam } from '../api/errors.js';
import { applyMetadata } from '../api/metadata.js';
import { registerNestedExpandable } from '../api/expand.js';
import { STRIPE_SEARCH_FIELDS } from '../api/search-query.js';
import { checkLimit } from '../api/list.js';
import type { Params } from '../api/params.js';
import type { ReadContext, WriteContext } from '../api/context.js';
import { emitEvent } from '../events/events.js';
import type { StoredObject } from '../store/store.js';
import {
  INVOICE_ERRORS, invoiceEvent, addInvoiceLines, buildLine, clockContext, computeInvoice, createInvoice, finalizeInvoice, invoiceIndex,
  invoicePayments, loadInvoice, loadLines, markUncollectible, payInvoice, publicLine, recomputeInvoice, saveInvoice,
  setInvoiceIndexer, storeDiscount, voidInvoice, pendingItems, lineFromItem, scheduleDueDateTimers, type LineInput,
} from '../engine/billing/invoices.js';
import { buildDiscount } from './discounts.js';
import { redeemCoupon } from './coupons.js';
import { redeemPromotionCode } from './promotion-codes.js';
import { indexEntries, type Obj, type Operation, type ResourceDef } from './define.js';

registerNestedExpandable('invoice', ['payments', 'confirmation_secret', 'parent.subscription_details.subscription']);

async function loadCustomerData(ctx: ReadContext, id: string, param = 'customer'): Promise<Obj> {
  const { loadCustomer } = await import('./payment-methods.js');
  return (await loadCustomer(ctx, id, param)).data;
}

/**
 * `discounts[]` params ({coupon} | {discount} | {promotion_code}) as discount objects held by
 * `holder`; an existing discount id is kept as is.
 */
export async function discountParams(ctx: WriteContext, list: Params[] | null, holder: { invoice?: string; invoice_item?: string; customer: string }, param = 'discounts'): Promise<Array<string | Obj>> {
  const out: Array<string | Obj> = [];
  for (const [i, d] of (list ?? []).entries()) {
    const p = `${param}[${i}]`;
    if (d.discount) { out.push(d.discount); continue; }
    if (d.coupon && d.promotion_code) throw invalidRequest('You may only specify one of these parameters: coupon, promotion_code.', `${p}[coupon]`);
    if (d.coupon) {
      const coupon = await redeemCoupon(ctx, d.coupon, `${p}[coupon]`);
      out.push(buildDiscount(ctx, coupon, null, { ...holder }));
    } else if (d.promotion_code) {
      const code = await redeemPromotionCode(ctx, d.promotion_code, { customer: holder.customer }, `${p}[promotion_code]`);
      const coupon = (await ctx.db.get(ctx.scope, code.promotion.coupon))!.data;
      out.push(buildDiscount(ctx, coupon, code.id, { ...holder }));
    }
  }
  for (const d of out) if (typeof d !== 'string') await storeDiscount(ctx, d);
  return out;
}

function collectionParams(p: Params, current?: Obj): void {
  const method = p.collection_method ?? current?.collection_method ?? 'charge_automatically';
  if (p.days_until_due !== undefined && method !== 'send_invoice') {
    throw invalidRequest("You can only specify 'due_date' or 'days_until_due' if invoice collection method is 'send_invoice'.");
  }
  if (p.due_date !== undefined && p.due_date !== null && method !== 'send_invoice') {
    throw invalidRequest("You can only specify 'due_date' or 'days_until_due' if invoice collection method is 'send_invoice'.");
  }
}

async function createFromParams(c: WriteContext, p: Params): Promise<Obj> {
  if (p.customer === undefined) throw missingParam('customer');
  const customer = await loadCustomerData(c, p.customer);
  const ctx = await clockContext(c, customer);
  collectionParams(p);
  const method = p.collection_method ?? 'charge_automatically';
  if (method === 'send_invoice' && p.days_until_due === undefined && p.due_date === undefined) {
    throw invalidRequest("If invoice collection method is 'send_invoice', you must specify 'due_date' or 'days_until_due'.");
  }
  if (p.default_payment_method) {
    const { requireAttached } = await import('./payment-methods.js');
    await requireAttached(ctx, p.default_payment_method, customer.id, 'default_payment_method');
  }
  await loadTaxRates(ctx, p.default_tax_rates, 'default_tax_rates');
  if (p.subscription !== undefined) {
    const sub = await ctx.db.get(ctx.scope, p.subscription);
    if (!sub || sub.type !== 'subscription' || sub.deleted) throw invalidRequest(`No such subscription: '${p.subscription}'`, 'subscription', 'resource_missing');
  }
  const behavior = p.pending_invoice_items_behavior ?? 'exclude';
  const discounts = p.discounts === undefined ? undefined : await discountParams(ctx, p.discounts, { customer: customer.id });
  const inv = await createInvoice(ctx, {
    customer: customer.id,
    subscription: p.subscription ?? null,
    billing_reason: 'manual',
    currency: p.currency,
    collection_method: method,
    days_until_due: p.days_until_due ?? null,
    due_date: p.due_date ?? null,
    default_payment_method: p.default_payment_method ?? null,
    default_source: p.default_source ?? null,
    default_tax_rates: p.default_tax_rates ?? [],
    description: p.description ?? null,
    footer: p.footer ?? null,
    metadata: applyMetadata({}, p.metadata),
    statement_descriptor: p.statement_descriptor ?? null,
    custom_fields: p.custom_fields ?? null,
    number: p.number ?? null,
    auto_advance: p.auto_advance ?? false,
    pull_pending_items: behavior === 'include',
    ...(discounts !== undefined ? { discounts } : {}),
    ...(p.automatically_finalizes_at !== undefined ? {} : {}),
  });
  // Discounts created for the invoice name it as their holder.
  return inv;
}

const FINALIZED_EDITABLE = new Set(['metadata', 'description', 'footer', 'auto_advance', 'custom_fields', 'expand', 'rendering', 'statement_descriptor', 'due_date', 'days_until_due']);
const CLOSED_EDITABLE = new Set(['metadata', 'expand', 'description', 'footer', 'custom_fields']);

async function updateInvoice(c: WriteContext, id: string, p: Params): Promise<Obj> {
  const row = await loadInvoice(c, id, true, 'id');
  const customer = await loadCustomerData(c, row.data.customer);
  const ctx = await clockContext(c, customer);
  const inv = structuredClone(row.data);
  const status: string = inv.status;
  const allowed = status === 'draft' ? null : status === 'open' ? FINALIZED_EDITABLE : CLOSED_EDITABLE;
  if (allowed) {
    for (const k of Object.keys(p)) {
      if (!allowed.has(k)) {
        throw INVOICE_ERRORS.finalizedUpdate(k);
      }
    }
  }
  collectionParams(p, inv);
  for (const k of ['description', 'footer', 'statement_descriptor', 'default_source'] as const) if (p[k] !== undefined) inv[k] = p[k];
  if (p.auto_advance !== undefined) {
    inv.auto_advance = p.auto_advance;
    if (status === 'draft') {
      const { scheduleTimer, cancelTimer } = await import('../engine/scheduler.js');
      if (p.auto_advance) {
        inv.automatically_finalizes_at = inv.automatically_finalizes_at ?? Math.max(ctx.now(), inv.created + 3600);
        await scheduleTimer(ctx, { kind: 'invoice.finalize', key: id, at: inv.automatically_finalizes_at, testClock: inv.test_clock ?? null });
      } else {
        inv.automatically_finalizes_at = null;
        await cancelTimer(ctx, 'invoice.finalize', id);
      }
    }
  }
  if (p.automatically_finalizes_at !== undefined && status === 'draft') {
    inv.automatically_finalizes_at = p.automatically_finalizes_at;
    if (inv.auto_advance) {
      const { scheduleTimer } = await import('../engine/scheduler.js');
      await scheduleTimer(ctx, { kind: 'invoice.finalize', key: id, at: p.automatically_finalizes_at, testClock: inv.test_clock ?? null });
    }
  }
  if (p.collection_method !== undefined) inv.collection_method = p.collection_method;
  if (p.days_until_due !== undefined) inv.due_date = (status === 'draft' ? inv.created : ctx.now()) + p.days_until_due * 86_400;
  if (p.due_date !== undefined) inv.due_date = p.due_date;
  if (inv.collection_method === 'charge_automatically') inv.due_date = null;
  if (p.custom_fields !== undefined) inv.custom_fields = p.custom_fields === null ? null : p.custom_fields.map((f: Obj) => ({ name: f.name, value: f.value }));
  if (p.default_payment_method !== undefined) {
    if (p.default_payment_method) {
      const { requireAttached } = await import('./payment-methods.js');
      await requireAttached(ctx, p.default_payment_method, inv.customer, 'default_payment_method');
    }
    inv.default_payment_method = p.default_payment_method;
  }
  if (p.default_tax_rates !== undefined) inv.default_tax_rates = await loadTaxRates(ctx, p.default_tax_rates, 'default_tax_rates');
  if (p.discounts !== undefined) {
    const ds = await discountParams(ctx, p.discounts, { customer: inv.customer, invoice: id });
    inv.discounts = ds.map((d) => (typeof d === 'string' ? d : d.id));
  }
  if (p.rendering !== undefined && p.rendering !== null) {
    inv.rendering = { ...inv.rendering, ...(p.rendering.amount_tax_display !== undefined ? { amount_tax_display: p.rendering.amount_tax_display } : {}), ...(p.rendering.template !== undefined ? { template: p.rendering.template } : {}) };
  }
  inv.metadata = applyMetadata(inv.metadata, p.metadata);
  if (status === 'draft') return recomputeInvoice(ctx, row, inv, null, 'invoice.updated');
  const saved = await saveInvoice(ctx, row, inv);
  if (saved.due_date !== row.data.due_date) await scheduleDueDateTimers(ctx, saved);
  return saved;
}

async function deleteInvoice(ctx: WriteContext, id: string): Promise<Obj> {
  await pathInvoice(ctx, id, 'invoice');
  const row = await loadInvoice(ctx, id, true, 'id');
  if (row.data.status !== 'draft') throw INVOICE_ERRORS.deleteStatus();
  if (row.data.parent?.subscription_details?.subscription && row.data.billing_reason !== 'manual') {
    throw invalidRequest("You can't delete invoices created by subscriptions.");
  }
  // Its invoice items become pending again; its lines go with it.
  const { cancelTimer } = await import('../engine/scheduler.js');
  await cancelTimer(ctx, 'invoice.finalize', id);
  const items = await ctx.tx.scan(ctx.scope, { type: 'invoiceitem', index: { field: 'invoice', value: id }, direction: 'newer', limit: 1000 });
  const { itemIndex } = await import('../engine/billing/invoices.js');
  for (const it of items) {
    if (it.deleted) continue;
    const next = { ...it.data, invoice: null };
    await ctx.tx.update(ctx.scope, { id: it.id, version: it.version, data: next, index: itemIndex(next) });
  }
  for (const l of await loadLines(ctx, id)) await ctx.tx.update(ctx.scope, { id: l.id, version: l.version, data: l.data, index: [], deleted: true });
  await ctx.tx.update(ctx.scope, { id, version: row.version, data: row.data, index: [], deleted: true });
  await invoiceEvent(ctx, 'invoice.deleted', row.data);
  return { id, object: 'invoice', deleted: true };
}

/**
 * A missing invoice named in the path: 404 resource_missing. Stripe names the parameter `id` on
 * update / pay / finalize / void / mark_uncollectible and `invoice` on lines / send / add_lines
 * (recorded from the live API).
 */
async function pathInvoice(ctx: ReadContext, id: string, param: 'id' | 'invoice'): Promise<StoredObject> {
  try {
    return await loadInvoice(ctx, id, false, 'id');
  } catch (e) {
    throw param === 'id' ? e : invalidRequest(`No such invoice: '${id}'`, param, 'resource_missing', 404);
  }
}

async function withClock<T>(c: WriteContext, invoiceId: string, fn: (ctx: WriteContext) => Promise<T>, param: 'id' | 'invoice' = 'id'): Promise<T> {
  const row = await pathInvoice(c, invoiceId, param);
  const customer = await c.db.get(c.scope, row.data.customer);
  return fn(customer ? await clockContext(c, customer.data) : c);
}

/** One page of an invoice's lines, in invoice order. */
export async function linesPage(ctx: ReadContext, invoiceId: string, p: Params, all?: Obj[]): Promise<Obj> {
  const limit = checkLimit(p.limit);
  if (p.starting_after !== undefined && p.ending_before !== undefined) {
    throw invalidRequest('Received both starting_after and ending_before parameters. Please pass in only one.');
  }
  const lines = all ?? (await loadLines(ctx, invoiceId)).map((r) => r.data);
  let start = 0, end = lines.length;
  if (p.starting_after !== undefined) {
    const i = lines.findIndex((l) => l.id === p.starting_after);
    if (i < 0) throw invalidRequest(`No such line item: '${p.starting_after}'`, 'starting_after', 'resource_missing');
    start = i + 1;
  }
  if (p.ending_before !== undefined) {
    const i = lines.findIndex((l) => l.id === p.ending_before);
    if (i < 0) throw invalidRequest(`No such line item: '${p.ending_before}'`, 'ending_before', 'resource_missing');
    end = i;
    start = Math.max(0, end - limit);
  }
  const page = lines.slice(start, Math.min(end, start + limit));
  const has_more = p.ending_before !== undefined ? start > 0 : start + limit < end;
  return { object: 'list', data: page.map(publicLine), has_more, url: `/v1/invoices/${invoiceId}/lines` };
}

/** Line params (add_lines / update_lines / invoice items) to engine input. */
async function lineInputFromParams(ctx: WriteContext, inv: Obj, l: Params, param: string): Promise<LineInput> {
  let price: Obj | null = null;
  let unit: number | null = null;
  if (l.pricing?.price) {
    const row = await ctx.db.get(ctx.scope, l.pricing.price);
    if (!row || row.type !== 'price' || row.deleted) throw invalidRequest(`No such price: '${l.pricing.price}'`, `${param}[pricing][price]`, 'resource_missing');
    price = row.data;
    unit = row.data.unit_amount;
  }
  if (l.price_data) {
    unit = l.price_data.unit_amount ?? (l.price_data.unit_amount_decimal !== undefined ? Number(l.price_data.unit_amount_decimal) : 0);
    price = { id: null, product: l.price_data.product };
  }
  const quantity = l.quantity ?? 1;
  const amount = l.amount ?? (unit !== null ? Math.round(unit * quantity) : 0);
  const discounts = l.discounts ? await discountParams(ctx, l.discounts, { customer: inv.customer, invoice: inv.id }, `${param}[discounts]`) : [];
  await loadTaxRates(ctx, l.tax_rates, `${param}[tax_rates]`);
  return {
    amount, currency: inv.currency, description: l.description ?? null,
    period: { start: l.period?.start ?? ctx.now(), end: l.period?.end ?? ctx.now() },
    price: price && price.id ? price : null, quantity, discountable: l.discountable ?? true, discounts,
    tax_rates: l.tax_rates ?? [], metadata: applyMetadata({}, l.metadata),
  };
}

async function addLines(c: WriteContext, id: string, p: Params): Promise<Obj> {
  return withClock(c, id, async (ctx) => {
    const row = await loadInvoice(ctx, id, true, 'id');
    if (row.data.status !== 'draft') throw INVOICE_ERRORS.notDraftLines(id);
    const { createInvoiceItemForInvoice } = await import('./invoice-items.js');
    const inputs: LineInput[] = [];
    for (const [i, l] of (p.lines ?? []).entries()) {
      if (l.invoice_item) {
        await createInvoiceItemForInvoice(ctx, row.data, { attach: l.invoice_item });
        continue;
      }
      inputs.push(await lineInputFromParams(ctx, row.data, l, `lines[${i}]`));
    }
    // Lines added by add_lines are backed by invoice items, as in Stripe.
    for (const input of inputs) await createInvoiceItemForInvoice(ctx, row.data, { input });
    const fresh = await loadInvoice(ctx, id, true, 'id');
    return recomputeInvoice(ctx, fresh, structuredClone(fresh.data), null, 'invoice.updated');
  }, 'invoice');
}

async function removeLines(c: WriteContext, id: string, p: Params): Promise<Obj> {
  return withClock(c, id, async (ctx) => {
    const row = await loadInvoice(ctx, id, true, 'id');
    if (row.data.status !== 'draft') throw INVOICE_ERRORS.notDraftLines(id);
    const lines = (await loadLines(ctx, id)).map((r) => r.data);
    const keep: Obj[] = [];
    const remove = new Map<string, string>((p.lines ?? []).map((l: Obj) => [l.id, l.behavior]));
    for (const [i, l] of (p.lines ?? []).entries()) {
      if (!lines.some((x) => x.id === l.id)) throw invalidRequest(`No such line item: '${l.id}'`, `lines[${i}][id]`, 'resource_missing');
    }
    for (const l of lines) {
      const behavior = remove.get(l.id);
      if (!behavior) { keep.push(l); continue; }
      const ii = l.parent?.invoice_item_details?.invoice_item;
      if (ii) {
        const it = await ctx.tx.getForUpdate(ctx.scope, ii);
        if (it && !it.deleted) {
          const { itemIndex } = await import('../engine/billing/invoices.js');
          if (behavior === 'delete') {
            await ctx.tx.update(ctx.scope, { id: it.id, version: it.version, data: it.data, index: [], deleted: true });
            await emitEvent(ctx, 'invoiceitem.deleted', it.data);
          } else {
            const next = { ...it.data, invoice: null };
            await ctx.tx.update(ctx.scope, { id: it.id, version: it.version, data: next, index: itemIndex(next) });
          }
        }
      }
    }
    return recomputeInvoice(ctx, row, structuredClone(row.data), keep, 'invoice.updated');
  });
}

async function updateLine(c: WriteContext, invoiceId: string, lineId: string, p: Params): Promise<Obj> {
  return withClock(c, invoiceId, async (ctx) => {
    const row = await loadInvoice(ctx, invoiceId, true, 'invoice');
    if (row.data.status !== 'draft') throw INVOICE_ERRORS.notDraftLines(invoiceId);
    const lines = (await loadLines(ctx, invoiceId)).map((r) => r.data);
    const i = lines.findIndex((l) => l.id === lineId);
    if (i < 0) throw invalidRequest(`No such line item: '${lineId}'`, 'id', 'resource_missing');
    const l = { ...lines[i]! };
    if (p.description !== undefined) l.description = p.description;
    if (p.discountable !== undefined) l.discountable = p.discountable;
    if (p.period !== undefined) l.period = { end: p.period.end, start: p.period.start };
    if (p.metadata !== undefined) l.metadata = applyMetadata(l.metadata, p.metadata);
    if (p.tax_rates !== undefined) { await loadTaxRates(ctx, p.tax_rates, 'tax_rates'); l._tax_rates = p.tax_rates ?? []; }
    if (p.discounts !== undefined) {
      const ds = await discountParams(ctx, p.discounts, { customer: row.data.customer, invoice: invoiceId });
      l.discounts = ds.map((d) => (typeof d === 'string' ? d : d.id));
    }
    if (p.amount !== undefined || p.quantity !== undefined || p.pricing !== undefined || p.price_data !== undefined) {
      const input = await lineInputFromParams(ctx, row.data, { amount: p.amount, quantity: p.quantity ?? l.quantity, pricing: p.pricing, price_data: p.price_data }, '');
      const rebuilt = await buildLine(ctx, row.data, { ...input, description: l.description });
      if (p.amount === undefined && p.pricing === undefined && p.price_data === undefined && l.quantity) {
        rebuilt.amount = Math.round((l.amount / l.quantity) * (p.quantity ?? l.quantity));
      }
      l.amount = rebuilt.amount;
      l.quantity = rebuilt.quantity;
      l.quantity_decimal = rebuilt.quantity_decimal;
      if (rebuilt.pricing) l.pricing = rebuilt.pricing;
    }
    lines[i] = l;
    // Keep the backing invoice item in step.
    const ii = l.parent?.invoice_item_details?.invoice_item;
    if (ii) {
      const it = await ctx.tx.getForUpdate(ctx.scope, ii);
      if (it && !it.deleted) {
        const { canonicalize } = await import('../api/render.js');
        const { itemIndex } = await import('../engine/billing/invoices.js');
        const next = canonicalize({ ...it.data, amount: l.amount, description: l.description, discountable: l.discountable, metadata: l.metadata, period: l.period, quantity: l.quantity, discounts: l.discounts });
        await ctx.tx.update(ctx.scope, { id: it.id, version: it.version, data: next, index: itemIndex(next) });
      }
    }
    await recomputeInvoice(ctx, row, structuredClone(row.data), lines, 'invoice.updated');
    const after = (await loadLines(ctx, invoiceId)).find((r) => r.id === lineId)!;
    return publicLine(after.data);
  });
}

/** Extensions of create_preview (subscriptions add subscription previews); the first that answers wins. */
type PreviewExtension = (ctx: WriteContext, p: Params) => Promise<Obj | null>;
const previewExtensions: PreviewExtension[] = [];
export function registerPreviewExtension(fn: PreviewExtension): void { previewExtensions.push(fn); }

async function createPreview(c: WriteContext, p: Params): Promise<Obj> {
  for (const ext of previewExtensions) {
    const r = await ext(c, p);
    if (r) return r;
  }
  if (p.customer === undefined) throw missingParam('customer');
  const customer = await loadCustomerData(c, p.customer);
  const ctx = await clockContext(c, customer);
  const currency = (p.currency ?? customer.currency ?? 'usd').toLowerCase();
  const lines: LineInput[] = [];
  const fake = { id: 'upcoming', customer: customer.id, currency };
  for (const [i, it] of (p.invoice_items ?? []).entries()) {
    lines.push(await lineInputFromParams(ctx, fake, { ...it, pricing: it.price ? { price: it.price } : it.pricing }, `invoice_items[${i}]`));
  }
  const pending = await pendingItems(ctx, customer.id, p.subscription ?? null);
  for (const r of pending) if (r.data.currency === currency) lines.push(lineFromItem(r.data));
  const discounts = p.discounts === undefined ? undefined : await previewDiscounts(ctx, p.discounts, customer.id);
  const result = await createInvoice(ctx, {
    customer: customer.id, billing_reason: 'manual', currency, lines, preview: true,
    ...(discounts !== undefined ? { discounts } : {}),
  }) as unknown as { invoice: Obj; lines: Obj[] };
  return { ...result.invoice, lines: { ...result.invoice.lines, url: `/v1/invoices/upcoming/lines` } };
}

async function previewDiscounts(ctx: WriteContext, list: Params[] | null, customer: string): Promise<Array<string | Obj>> {
  const out: Array<string | Obj> = [];
  for (const [i, d] of (list ?? []).entries()) {
    if (d.discount) out.push(d.discount);
    else if (d.coupon) {
      const coupon = await ctx.db.get(ctx.scope, d.coupon);
      if (!coupon || coupon.type !== 'coupon' || coupon.deleted) throw invalidRequest(`No such coupon: '${d.coupon}'`, `discounts[${i}][coupon]`, 'resource_missing');
      out.push(buildDiscount(ctx, coupon.data, null, { customer }));
    } else if (d.promotion_code) {
      const code = await ctx.db.get(ctx.scope, d.promotion_code);
      if (!code || code.type !== 'promotion_code') throw invalidRequest(`No such promotion code: '${d.promotion_code}'`, `discounts[${i}][promotion_code]`, 'resource_missing');
      const coupon = (await ctx.db.get(ctx.scope, code.data.promotion.coupon))!.data;
      out.push(buildDiscount(ctx, coupon, code.id, { customer }));
    }
  }
  return out;
}

async function sendInvoice(c: WriteContext, id: string): Promise<Obj> {
  return withClock(c, id, async (ctx) => {
    const row = await loadInvoice(ctx, id, true, 'id');
    if (row.data.status === 'draft') {
      if (row.data.collection_method !== 'send_invoice') throw INVOICE_ERRORS.sendStatus();
      return finalizeInvoice(ctx, id, { send: true }); // invoice.sent once, after invoice.finalized
    }
    if (row.data.status !== 'open') throw INVOICE_ERRORS.cannotSend();
    if (row.data.collection_method !== 'send_invoice') throw INVOICE_ERRORS.sendStatus();
    await invoiceEvent(ctx, 'invoice.sent', row.data);
    return row.data;
  }, 'invoice');
}

const searchFields = {
  ...STRIPE_SEARCH_FIELDS.invoices,
  subscription: { kind: 'token' as const, substring: true, path: ['parent', 'subscription_details', 'subscription'] },
};

export const invoices: ResourceDef = {
  object: 'invoice',
  prefix: 'in',
  path: '/v1/invoices',
  search: searchFields,
  includable: ['confirmation_secret'],
  virtual: {
    payments: async (ctx, inv) => {
      const rows = await invoicePayments(ctx, inv.id);
      return { object: 'list', data: rows.slice(0, 10).map((r) => r.data), has_more: rows.length > 10, total_count: rows.length, url: '/v1/invoice_payments' };
    },
  },
  index: (inv) => invoiceIndex(inv),
  listFilters: (p) => {
    const filter = (d: Obj) =>
      (p.status === undefined || d.status === p.status)
      && (p.collection_method === undefined || d.collection_method === p.collection_method)
      && (p.subscription === undefined || d.parent?.subscription_details?.subscription === p.subscription)
      && (p.customer === undefined || d.customer === p.customer)
      && dueDateMatches(d.due_date, p.due_date);
    if (p.customer !== undefined) return { index: { field: 'customer', value: p.customer }, filter };
    if (p.subscription !== undefined) return { index: { field: 'subscription', value: p.subscription }, filter };
    if (p.status !== undefined) return { index: { field: 'status', value: p.status }, filter };
    return { filter };
  },
  standard: { create: false, update: false, delete: false },
  operations: (): Operation[] => [
    { method: 'POST', path: '/v1/invoices', write: true, handler: (ctx, p) => createFromParams(ctx as WriteContext, p) },
    { method: 'POST', path: '/v1/invoices/create_preview', write: true, handler: (ctx, p) => createPreview(ctx as WriteContext, p) },
    { method: 'POST', path: '/v1/invoices/{id}', write: true, handler: (ctx, p, path) => updateInvoice(ctx as WriteContext, path.id!, p) },
    { method: 'DELETE', path: '/v1/invoices/{id}', write: true, handler: (ctx, _p, path) => deleteInvoice(ctx as WriteContext, path.id!) },
    {
      method: 'POST', path: '/v1/invoices/{id}/finalize', write: true,
      handler: (ctx, p, path) => withClock(ctx as WriteContext, path.id!, (c) => finalizeInvoice(c, path.id!, { auto_advance: p.auto_advance })),
    },
    {
      method: 'POST', path: '/v1/invoices/{id}/pay', write: true,
      handler: (ctx, p, path) => withClock(ctx as WriteContext, path.id!, (c) => payInvoice(c, path.id!, {
        off_session: p.off_session, payment_method: p.payment_method ?? p.source, paid_out_of_band: p.paid_out_of_band,
      })),
    },
    { method: 'POST', path: '/v1/invoices/{id}/send', write: true, handler: (ctx, _p, path) => sendInvoice(ctx as WriteContext, path.id!) },
    { method: 'POST', path: '/v1/invoices/{id}/void', write: true, handler: (ctx, _p, path) => withClock(ctx as WriteContext, path.id!, (c) => voidInvoice(c, path.id!)) },
    {
      method: 'POST', path: '/v1/invoices/{id}/mark_uncollectible', write: true,
      handler: (ctx, _p, path) => withClock(ctx as WriteContext, path.id!, (c) => markUncollectible(c, path.id!)),
    },
    {
      method: 'GET', path: '/v1/invoices/{id}/lines', write: false, returnsList: true,
      handler: async (ctx, p, path) => { await pathInvoice(ctx, path.id!, 'invoice'); return linesPage(ctx, path.id!, p); },
    },
    { method: 'POST', path: '/v1/invoices/{invoiceId}/lines/{id}', write: true, handler: (ctx, p, path) => updateLine(ctx as WriteContext, path.invoiceId!, path.id!, p) },
    { method: 'POST', path: '/v1/invoices/{id}/add_lines', write: true, handler: (ctx, p, path) => addLines(ctx as WriteContext, path.id!, p) },
    { method: 'POST', path: '/v1/invoices/{id}/remove_lines', write: true, handler: (ctx, p, path) => removeLines(ctx as WriteContext, path.id!, p) },
    {
      method: 'POST', path: '/v1/invoices/{id}/update_lines', write: true,
      handler: async (ctx, p, path) => {
        for (const l of p.lines ?? []) {
          const { id: lineId, ...rest } = l;
          await updateLine(ctx as WriteContext, path.id!, lineId, rest);
        }
        return (await loadInvoice(ctx, path.id!, false, 'id')).data;
      },
    },
  ],
};

function dueDateMatches(v: number | null, f: Params | number | undefined): boolean {
  if (f === undefined) return true;
  if (v === null || v === undefined) return false;
  if (typeof f === 'number') return v === f;
  return (f.gt === undefined || v > f.gt) && (f.gte === undefined || v >= f.gte) && (f.lt === undefined || v < f.lt) && (f.lte === undefined || v <= f.lte);
}

// Stored invoices get the family's index entries (search tokens included).
setInvoiceIndexer((inv) => indexEntries(invoices, inv));

export { addInvoiceLines, computeInvoice };
export type { StoredObject };
