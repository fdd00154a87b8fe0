// Invoice items — https://docs.stripe.com/api/invoiceitems
// create (customer; amount, or pricing[price] / price_data with quantity; invoice: added to that
// draft at once, otherwise pending until the customer's next invoice pulls it in), retrieve,
// update (while pending or on a draft; the draft's line and totals follow), delete (same),
// list (customer, invoice, pending, created). Events: invoiceitem.created, invoiceitem.deleted
// (Stripe sends no invoiceitem.updated any more: it is not among the current event types).
import { invalidRequest, missingParam, type StripeError } from '../api/errors.js';
import { applyMetadata } from '../api/metadata.js';
import { canonicalize } from '../api/render.js';
import type { Params } from '../api/params.js';
import type { ReadContext, WriteContext } from '../api/context.js';
import { StoredResult } from '../api/stored-result.js';
import type { StoredObject } from '../store/store.js';
import { emitEvent } from '../events/events.js';
import {
  buildLine, clockContext, itemIndex, lineFromItem, loadInvoice, refreshDraft, type LineInput, LINE_ITEM,
} from '../engine/billing/invoices.js';
import { discountParams } from './invoices.js';
import { loadTaxRates } from './tax-rates.js';
import { type Obj, type ResourceDef } from './define.js';

interface Pricing { amount: number; currency: string; quantity: number; unit: string | null; price: Obj | null; product: string | null }

async function pricingFrom(ctx: WriteContext, p: Params, current?: Obj): Promise<Pricing> {
  const quantity: number = p.quantity ?? current?.quantity ?? 1;
  const priceId = p.pricing?.price ?? p.price;
  if (priceId) {
    const row = await ctx.db.get(ctx.scope, priceId);
    if (!row || row.type !== 'price' || row.deleted) throw invalidRequest(`No such price: '${priceId}'`, 'pricing[price]', 'resource_missing');
    const unit = row.data.unit_amount ?? Number(row.data.unit_amount_decimal ?? 0);
    return { amount: Math.round(unit * quantity), currency: row.data.currency, quantity, unit: String(unit), price: row.data, product: row.data.product };
  }
  if (p.price_data) {
    const d = p.price_data;
    const unit = d.unit_amount ?? (d.unit_amount_decimal !== undefined ? Number(d.unit_amount_decimal) : 0);
    return { amount: Math.round(unit * quantity), currency: d.currency.toLowerCase(), quantity, unit: String(unit), price: null, product: d.product };
  }
  if (p.unit_amount_decimal !== undefined) {
    const unit = Number(p.unit_amount_decimal);
    return { amount: Math.round(unit * quantity), currency: (p.currency ?? current?.currency)?.toLowerCase(), quantity, unit: String(p.unit_amount_decimal), price: null, product: null };
  }
  if (p.amount !== undefined) {
    const currency = (p.currency ?? current?.currency)?.toLowerCase();
    return { amount: p.amount, currency, quantity, unit: quantity ? String(p.amount / quantity) : null, price: null, product: null };
  }
  if (current) {
    const unit = current.pricing?.unit_amount_decimal !== undefined && current.pricing?.unit_amount_decimal !== null ? Number(current.pricing.unit_amount_decimal) : current.amount / (current.quantity || 1);
    return { amount: Math.round(unit * quantity), currency: current.currency, quantity, unit: current.pricing?.unit_amount_decimal ?? String(unit), price: null, product: current.pricing?.price_details?.product ?? null };
  }
  throw missingParam('amount');
}

function pricingField(pr: Pricing): Obj | null {
  if (pr.price) return { price_details: { price: pr.price.id, product: pr.product }, type: 'price_details', unit_amount_decimal: pr.unit };
  return { type: 'price_details', unit_amount_decimal: pr.unit };
}

/** Builds a new invoice item object (not stored). */
async function buildItem(ctx: WriteContext, p: Params, base: Obj, customer: Obj): Promise<Obj> {
  const pr = await pricingFrom(ctx, p);
  if (!pr.currency) throw missingParam('currency');
  const now = ctx.now();
  return {
    ...base,
    created: undefined,
    amount: pr.amount,
    currency: pr.currency,
    customer: customer.id,
    customer_account: null,
    date: now,
    description: p.description ?? pr.price?.nickname ?? null,
    discountable: p.discountable ?? pr.amount >= 0,
    discounts: [],
    invoice: null,
    livemode: ctx.scope.livemode,
    metadata: applyMetadata({}, p.metadata),
    net_amount: pr.amount,
    parent: p.subscription ? { subscription_details: { subscription: p.subscription, subscription_item: null }, type: 'subscription_details' } : null,
    period: { end: p.period?.end ?? now, start: p.period?.start ?? now },
    pricing: pricingField(pr),
    proration: false,
    proration_details: { credited_items: null },
    quantity: pr.quantity,
    quantity_decimal: String(pr.quantity),
    tax_rates: await loadTaxRates(ctx, p.tax_rates, 'tax_rates'),
    test_clock: customer.test_clock ?? null,
  };
}

async function insertItem(ctx: WriteContext, item: Obj): Promise<Obj> {
  const { created: _c, ...rest } = item;
  const data = canonicalize(rest);
  await ctx.tx.insert(ctx.scope, { id: data.id, type: 'invoiceitem', created: data.date, data, index: itemIndex(data) });
  await emitEvent(ctx, 'invoiceitem.created', data);
  return data;
}

async function insertLineForItem(ctx: WriteContext, inv: Obj, item: Obj): Promise<void> {
  const line = await buildLine(ctx, inv, lineFromItem(item));
  await ctx.tx.insert(ctx.scope, { id: line.id, type: LINE_ITEM, created: ctx.now(), data: canonicalize(line), index: [{ field: 'invoice', value: inv.id }] });
}

/**
 * For add_lines: attaches a pending invoice item to a draft, or creates one from a line input;
 * inserts its line. The caller recomputes the invoice.
 */
export async function createInvoiceItemForInvoice(ctx: WriteContext, inv: Obj, o: { attach?: string; input?: LineInput }): Promise<Obj> {
  if (o.attach) {
    const row = await ctx.tx.getForUpdate(ctx.scope, o.attach);
    if (!row || row.type !== 'invoiceitem' || row.deleted) throw invalidRequest(`No such invoiceitem: '${o.attach}'`, 'lines[0][invoice_item]', 'resource_missing');
    if (row.data.invoice) throw invalidRequest(`The invoice item ${o.attach} is already attached to invoice ${row.data.invoice}.`, 'invoice_item');
    const next = canonicalize({ ...row.data, invoice: inv.id });
    await ctx.tx.update(ctx.scope, { id: row.id, version: row.version, data: next, index: itemIndex(next) });
    await insertLineForItem(ctx, inv, next);
    return next;
  }
  const i = o.input!;
  const customer = (await ctx.db.get(ctx.scope, inv.customer))!.data;
  const item = await buildItem(ctx, { amount: i.amount, currency: inv.currency, description: i.description ?? undefined, period: i.period, quantity: i.quantity ?? 1, discountable: i.discountable, ...(i.tax_rates?.length ? { tax_rates: i.tax_rates } : {}) },
    { id: ctx.services.ids.id('ii'), object: 'invoiceitem' }, customer);
  if (typeof i.price === 'object' && i.price) item.pricing = { price_details: { price: i.price.id, product: i.price.product }, type: 'price_details', unit_amount_decimal: i.price.unit_amount !== null && i.price.unit_amount !== undefined ? String(i.price.unit_amount) : null };
  item.discounts = (i.discounts ?? []).map((d) => (typeof d === 'string' ? d : d.id));
  item.metadata = i.metadata ?? {};
  item.invoice = inv.id;
  const stored = await insertItem(ctx, item);
  await insertLineForItem(ctx, inv, stored);
  return stored;
}

async function draftOf(ctx: WriteContext, item: Obj): Promise<Obj | null> {
  if (!item.invoice) return null;
  const inv = await loadInvoice(ctx, item.invoice, true, 'invoice');
  return inv.data;
}

function notEditable(_item: Obj, _inv: Obj): never {
  // Stripe's wording for an update of an item on a finalized invoice.
  throw invalidRequest('This invoice item is already attached to an invoice that is no longer editable');
}

/**
 * A missing invoice item in the path: Stripe spells this family its own way, capitalized and
 * with the mode appended: `No such Invoice Item: 'ii_x'(livemode=false)` (recorded from the live API).
 */
function noSuchInvoiceItem(ctx: ReadContext, id: string): StripeError {
  return invalidRequest(`No such Invoice Item: '${id}'(livemode=${ctx.scope.livemode})`, 'id', 'resource_missing', 404);
}
async function loadItem(ctx: ReadContext, def: ResourceDef, id: string, forUpdate: boolean): Promise<StoredObject> {
  const found = forUpdate && 'tx' in ctx ? await (ctx as WriteContext).tx.getForUpdate(ctx.scope, id) : await ctx.db.get(ctx.scope, id);
  if (!found || found.type !== def.object || found.deleted) throw noSuchInvoiceItem(ctx, id);
  return found;
}

/** Replaces the item's line on its draft (same line id) so the draft reflects the change. */
async function syncLine(ctx: WriteContext, item: Obj): Promise<void> {
  const rows = await ctx.tx.scan(ctx.scope, { type: LINE_ITEM, index: { field: 'invoice', value: item.invoice }, direction: 'newer', limit: 1000 });
  const row = rows.find((r) => !r.deleted && r.data.parent?.invoice_item_details?.invoice_item === item.id);
  const inv = (await ctx.tx.get(ctx.scope, item.invoice))!.data;
  const rebuilt = await buildLine(ctx, inv, lineFromItem(item));
  if (row) {
    await ctx.tx.update(ctx.scope, { id: row.id, version: row.version, data: canonicalize({ ...rebuilt, id: row.id }), index: [{ field: 'invoice', value: item.invoice }] });
  } else {
    await ctx.tx.insert(ctx.scope, { id: rebuilt.id, type: LINE_ITEM, created: ctx.now(), data: canonicalize(rebuilt), index: [{ field: 'invoice', value: item.invoice }] });
  }
}

async function removeLine(ctx: WriteContext, item: Obj): Promise<void> {
  const rows = await ctx.tx.scan(ctx.scope, { type: LINE_ITEM, index: { field: 'invoice', value: item.invoice }, direction: 'newer', limit: 1000 });
  for (const r of rows) {
    if (!r.deleted && r.data.parent?.invoice_item_details?.invoice_item === item.id) {
      await ctx.tx.update(ctx.scope, { id: r.id, version: r.version, data: r.data, index: [], deleted: true });
    }
  }
}

export const invoiceItems: ResourceDef = {
  object: 'invoiceitem',
  prefix: 'ii',
  path: '/v1/invoiceitems',
  index: (it) => itemIndex(it),
  listFilters: (p) => {
    const filter = (d: Obj) => (p.pending === undefined || (d.invoice === null) === p.pending)
      && (p.invoice === undefined || d.invoice === p.invoice) && (p.customer === undefined || d.customer === p.customer);
    if (p.invoice !== undefined) return { index: { field: 'invoice', value: p.invoice }, filter };
    if (p.customer !== undefined && p.pending === true) return { index: { field: 'pending', value: p.customer }, filter };
    if (p.customer !== undefined) return { index: { field: 'customer', value: p.customer }, filter };
    return { filter };
  },
  standard: { create: false, retrieve: false, update: false, delete: false },
  operations: (def) => [
    {
      method: 'GET', path: '/v1/invoiceitems/{id}', write: false,
      handler: async (ctx, _p, path) => new StoredResult(await loadItem(ctx, def, path.id!, false)),
    },
    {
      method: 'POST', path: '/v1/invoiceitems', write: true,
      handler: async (c, p) => {
        const w = c as WriteContext;
        if (p.customer === undefined) throw missingParam('customer');
        const { loadCustomer } = await import('./payment-methods.js');
        const customer = (await loadCustomer(w, p.customer)).data;
        const ctx = await clockContext(w, customer);
        if (p.amount !== undefined && (p.pricing?.price !== undefined || p.price_data !== undefined)) {
          throw invalidRequest('You may only specify one of these parameters: amount, pricing[price], price_data.', 'amount');
        }
        let inv: Obj | null = null;
        if (p.invoice !== undefined) {
          inv = (await loadInvoice(ctx, p.invoice, true, 'invoice')).data;
          if (inv.status !== 'draft') throw invalidRequest(`Invoice ${inv.id} is no longer editable because it has been finalized. You can only add invoice items to draft invoices.`, 'invoice');
          if (inv.customer !== customer.id) throw invalidRequest(`The invoice ${inv.id} belongs to customer ${inv.customer}, not ${customer.id}.`, 'invoice');
        }
        const id = ctx.services.ids.id('ii');
        const item = await buildItem(ctx, inv ? { currency: inv.currency, ...p } : p, { id, object: 'invoiceitem' }, customer);
        if (inv && item.currency !== inv.currency) throw invalidRequest(`The currency of the invoice item (${item.currency}) must match the invoice's currency (${inv.currency}).`, 'currency');
        if (p.discounts !== undefined) {
          const ds = await discountParams(ctx, p.discounts, { customer: customer.id, invoice_item: id });
          item.discounts = ds.map((d) => (typeof d === 'string' ? d : d.id));
        }
        if (inv) item.invoice = inv.id;
        const stored = await insertItem(ctx, item);
        if (inv) {
          await insertLineForItem(ctx, inv, stored);
          await refreshDraft(ctx, inv.id);
        }
        return stored;
      },
    },
    {
      method: 'POST', path: '/v1/invoiceitems/{id}', write: true,
      handler: async (c, p, path) => {
        const w = c as WriteContext;
        const row = await loadItem(w, def, path.id!, true);
        const customer = (await w.db.get(w.scope, row.data.customer))!.data;
        const ctx = await clockContext(w, customer);
        const item = structuredClone(row.data);
        const inv = await draftOf(ctx, item);
        if (inv && inv.status !== 'draft') notEditable(item, inv);
        if (p.amount !== undefined || p.pricing !== undefined || p.price_data !== undefined || p.quantity !== undefined || p.unit_amount_decimal !== undefined) {
          const pr = await pricingFrom(ctx, p, item);
          item.amount = pr.amount;
          item.net_amount = pr.amount;
          item.quantity = pr.quantity;
          item.quantity_decimal = String(pr.quantity);
          item.pricing = pr.price || p.price_data || p.amount !== undefined || p.unit_amount_decimal !== undefined ? pricingField(pr) : item.pricing;
        }
        if (p.description !== undefined) item.description = p.description;
        if (p.discountable !== undefined) item.discountable = p.discountable;
        if (p.period !== undefined) item.period = { end: p.period.end, start: p.period.start };
        if (p.tax_rates !== undefined) item.tax_rates = await loadTaxRates(ctx, p.tax_rates, 'tax_rates');
        if (p.discounts !== undefined) {
          const ds = await discountParams(ctx, p.discounts, { customer: item.customer, invoice_item: item.id });
          item.discounts = ds.map((d) => (typeof d === 'string' ? d : d.id));
        }
        item.metadata = applyMetadata(item.metadata, p.metadata);
        const data = canonicalize(item);
        await ctx.tx.update(ctx.scope, { id: row.id, version: row.version, data, index: itemIndex(data) });
        if (inv) { await syncLine(ctx, data); await refreshDraft(ctx, inv.id); }
        return data;
      },
    },
    {
      method: 'DELETE', path: '/v1/invoiceitems/{id}', write: true,
      handler: async (c, _p, path) => {
        const ctx = c as WriteContext;
        const row = await loadItem(ctx, def, path.id!, true);
        const inv = await draftOf(ctx, row.data);
        // Stripe's wording (recorded from the live API).
        if (inv && inv.status !== 'draft') throw invalidRequest("Can't delete an invoice item that is attached to an invoice that is no longer editable");
        await ctx.tx.update(ctx.scope, { id: row.id, version: row.version, data: row.data, index: [], deleted: true });
        if (inv) { await removeLine(ctx, row.data); await refreshDraft(ctx, inv.id); }
        await emitEvent(ctx, 'invoiceitem.deleted', row.data);
        return { id: row.id, object: 'invoiceitem', deleted: true };
      },
    },
  ],
};

/**
 * For subscriptions (prorations billed on the next invoice) and other engines: stores a pending
 * invoice item for `customerId` from a line input (subscription, subscription_item, proration
 * and proration_details kept), with invoiceitem.created. Returns the item.
 */
export async function createPendingInvoiceItem(ctx: WriteContext, customerId: string, i: LineInput): Promise<Obj> {
  const customer = (await ctx.db.get(ctx.scope, customerId))!.data;
  const item = await buildItem(ctx, {
    amount: i.amount, currency: i.currency, description: i.description ?? undefined, period: i.period, quantity: i.quantity ?? 1,
    discountable: i.discountable ?? true, ...(i.tax_rates?.length ? { tax_rates: i.tax_rates } : {}),
  }, { id: ctx.services.ids.id('ii'), object: 'invoiceitem' }, customer);
  if (typeof i.price === 'string') {
    const row = await ctx.db.get(ctx.scope, i.price);
    if (row) item.pricing = { price_details: { price: row.id, product: row.data.product }, type: 'price_details', unit_amount_decimal: row.data.unit_amount !== null ? String(row.data.unit_amount) : row.data.unit_amount_decimal };
  } else if (i.price) {
    item.pricing = { price_details: { price: i.price.id, product: i.price.product }, type: 'price_details', unit_amount_decimal: i.price.unit_amount !== null && i.price.unit_amount !== undefined ? String(i.price.unit_amount) : i.price.unit_amount_decimal ?? null };
  }
  if (i.subscription) item.parent = { subscription_details: { subscription: i.subscription, subscription_item: i.subscription_item ?? null }, type: 'subscription_details' };
  item.proration = !!i.proration;
  item.proration_details = i.proration_details ?? { credited_items: null };
  item.discounts = (i.discounts ?? []).map((d) => (typeof d === 'string' ? d : d.id));
  item.metadata = i.metadata ?? {};
  return insertItem(ctx, item);
}
