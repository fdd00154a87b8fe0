// Credit notes — https://docs.stripe.com/api/credit_notes
// create (invoice; lines of type invoice_line_item (quantity or amount of an invoice line) or
// custom_line_item (unit_amount × quantity), or a bare `amount`; reason, memo, metadata),
// preview (GET /v1/credit_notes/preview and …/preview/lines), retrieve, update (memo, metadata),
// list (customer, invoice, created), lines (GET /v1/credit_notes/{id}/lines) and void.
//
// Pre-payment (the invoice is open or uncollectible): the credit reduces what is due
// (invoice.pre_payment_credit_notes_amount, amount_due, amount_remaining, its PaymentIntent's
// amount); crediting everything still due marks the invoice paid.
// Post-payment (the invoice is paid): the credit note total is split into refund_amount (a Refund
// of the invoice's payment), credit_amount (a customer balance credit, type credit_note) and
// out_of_band_amount; they must add up to the total. When none is given, the whole credit is
// refunded. Voiding reverses a balance credit or a pre-payment credit; a credit note with a
// refund cannot be voided.
//
// Amounts per line: `amount` is the gross amount credited (before discounts and exclusive tax);
// its discount and taxes are the invoice line's, in proportion. subtotal = Σ amount − Σ discount,
// total = subtotal + exclusive tax. Messages are sentences of our own unless marked verified.
import { invalidRequest, missingParam, noSuchResource } from '../api/errors.js';
import { applyMetadata } from '../api/metadata.js';
import { canonicalize } from '../api/render.js';
import { listObjects, checkLimit } from '../api/list.js';
import type { Params } from '../api/params.js';
import type { ReadContext, WriteContext } from '../api/context.js';
import { emitEvent } from '../events/events.js';
import type { StoredObject } from '../store/store.js';
import {
  clockContext, invoicePayments, loadInvoice, loadLines, recordCustomerBalance, saveInvoice,
} from '../engine/billing/invoices.js';
import { loadTaxRates } from './tax-rates.js';
import { formatAmount } from '../engine/payments/money.js';
import { loadObject, type Obj, type ResourceDef } from './define.js';

const CREDIT_NOTE = 'credit_note';
const CN_LINE = 'credit_note_line_item';
const round = (x: number) => Math.sign(x) * Math.round(Math.abs(x) + 1e-9);

interface Built { note: Obj; lines: Obj[] }

/** What can still be credited: pre-payment the amount remaining, post-payment what was paid less earlier post-payment credit. */
function creditable(inv: Obj): number {
  if (inv.status === 'paid') return inv.amount_paid - inv.post_payment_credit_notes_amount;
  return inv.amount_remaining;
}

/** Builds a credit note (not stored) from create/preview params. */
async function build(ctx: WriteContext, p: Params): Promise<{ built: Built; inv: StoredObject }> {
  if (p.invoice === undefined) throw missingParam('invoice');
  const inv = await loadInvoice(ctx, p.invoice, true, 'invoice');
  const invoice = inv.data;
  if (!['open', 'paid', 'uncollectible'].includes(invoice.status)) {
    throw invalidRequest(`You can only create a credit note for an invoice that is open, paid or uncollectible. This invoice is ${invoice.status}.`, 'invoice');
  }
  const id = ctx.services.ids.id('cn');
  const invLines = new Map((await loadLines(ctx, invoice.id)).map((r) => [r.id, r.data]));
  const lines: Obj[] = [];
  const discountTotals = new Map<string, number>();
  const taxTotals = new Map<string, Obj>();
  let gross = 0, discount = 0, exclusive = 0, inclusive = 0;
  for (const [i, l] of (p.lines ?? []).entries()) {
    const param = `lines[${i}]`;
    if (l.type === undefined) throw missingParam(`${param}[type]`);
    let amount: number, quantity: number | null, description: string | null, unit: number | null = null;
    let das: Obj[] = [], taxes: Obj[] = [], rates: Obj[] = [], invoiceLine: string | null = null;
    if (l.type === 'invoice_line_item') {
      if (l.invoice_line_item === undefined) throw missingParam(`${param}[invoice_line_item]`);
      const src = invLines.get(l.invoice_line_item);
      if (!src) throw invalidRequest(`No such invoice line item: '${l.invoice_line_item}' on invoice ${invoice.id}`, `${param}[invoice_line_item]`, 'resource_missing');
      if (l.amount !== undefined && l.quantity !== undefined) throw invalidRequest('You may only specify one of these parameters: amount, quantity.', `${param}[amount]`);
      invoiceLine = src.id;
      quantity = l.quantity ?? src.quantity;
      amount = l.amount ?? (src.quantity ? round((src.amount * (l.quantity ?? src.quantity)) / src.quantity) : src.amount);
      if (src.quantity && l.quantity !== undefined && l.quantity > src.quantity) {
        throw invalidRequest(`The quantity ${l.quantity} is more than the invoice line's quantity ${src.quantity}.`, `${param}[quantity]`);
      }
      if (Math.abs(amount) > Math.abs(src.amount)) throw invalidRequest(`The amount ${amount} is more than the invoice line's amount ${src.amount}.`, `${param}[amount]`);
      const share = src.amount ? amount / src.amount : 0;
      description = l.description ?? src.description;
      das = (src.discount_amounts ?? []).map((d: Obj) => ({ amount: round(d.amount * share), discount: d.discount }));
      taxes = (src.taxes ?? []).map((t: Obj) => ({ ...t, amount: round(t.amount * share), taxable_amount: t.taxable_amount === null ? null : round(t.taxable_amount * share) }));
    } else if (l.type === 'custom_line_item') {
      if (l.description === undefined) throw missingParam(`${param}[description]`);
      quantity = l.quantity ?? 1;
      unit = l.unit_amount ?? (l.unit_amount_decimal !== undefined ? Number(l.unit_amount_decimal) : null);
      if (unit === null) throw missingParam(`${param}[unit_amount]`);
      amount = round(unit * quantity!);
      description = l.description;
      rates = await loadTaxRates(ctx, l.tax_rates, `${param}[tax_rates]`);
      const incPct = rates.filter((r) => r.inclusive).reduce((a, r) => a + r.percentage, 0);
      const incTotal = incPct ? amount - round(amount / (1 + incPct / 100)) : 0;
      const taxable = amount - incTotal;
      for (const r of rates) {
        const amt = r.inclusive ? round((incTotal * r.percentage) / incPct) : round((taxable * r.percentage) / 100);
        taxes.push({ amount: amt, tax_behavior: r.inclusive ? 'inclusive' : 'exclusive', tax_rate_details: { tax_rate: r.id }, taxability_reason: 'not_available', taxable_amount: taxable, type: 'tax_rate_details' });
      }
    } else {
      throw invalidRequest(`Invalid ${param}[type]: must be one of invoice_line_item or custom_line_item`, `${param}[type]`);
    }
    const lineDiscount = das.reduce((a, d) => a + d.amount, 0);
    gross += amount;
    discount += lineDiscount;
    for (const d of das) discountTotals.set(d.discount, (discountTotals.get(d.discount) ?? 0) + d.amount);
    for (const t of taxes) {
      if (t.tax_behavior === 'inclusive') inclusive += t.amount; else exclusive += t.amount;
      const k = t.tax_rate_details?.tax_rate ?? '';
      const agg = taxTotals.get(k);
      if (agg) { agg.amount += t.amount; agg.taxable_amount = (agg.taxable_amount ?? 0) + (t.taxable_amount ?? 0); } else taxTotals.set(k, { ...t });
    }
    lines.push({
      id: ctx.services.ids.id('cnli'),
      object: CN_LINE,
      amount,
      description,
      discount_amount: lineDiscount,
      discount_amounts: das,
      ...(invoiceLine ? { invoice_line_item: invoiceLine } : {}),
      livemode: ctx.scope.livemode,
      metadata: l.metadata ? applyMetadata({}, l.metadata) : null,
      pretax_credit_amounts: das.map((d) => ({ amount: d.amount, discount: d.discount, type: 'discount' })),
      quantity,
      tax_rates: rates,
      taxes,
      type: l.type,
      unit_amount: l.type === 'custom_line_item' ? unit : null,
      unit_amount_decimal: l.type === 'custom_line_item' && unit !== null ? String(unit) : null,
    });
  }
  let total: number;
  if (!lines.length) {
    if (p.amount === undefined) {
      throw invalidRequest('You must pass either `lines` or `amount` to create a credit note.', 'lines');
    }
    gross = p.amount;
    total = p.amount;
  } else {
    total = gross - discount + exclusive;
    if (p.amount !== undefined && p.amount !== total) {
      throw invalidRequest(`The amount (${p.amount}) does not match the total of the credit note lines (${total}).`, 'amount');
    }
  }
  if (total <= 0) throw invalidRequest('The credit note total must be greater than 0.', lines.length ? 'lines' : 'amount');
  const max = creditable(invoice);
  if (total > max) {
    throw invalidRequest(`The credit note total (${total}) is greater than the amount that can be credited on invoice ${invoice.id} (${max}).`, lines.length ? 'lines' : 'amount');
  }
  const post = invoice.status === 'paid';
  let refundAmount = p.refund_amount ?? 0;
  const creditAmount = p.credit_amount ?? 0;
  const outOfBand = p.out_of_band_amount ?? 0;
  if (post) {
    if (p.refund_amount === undefined && p.credit_amount === undefined && p.out_of_band_amount === undefined) refundAmount = total;
    if (refundAmount + creditAmount + outOfBand !== total) {
      // Stripe's wording, amounts written as its messages write them ($1.00).
      throw invalidRequest(`The sum of credit amount, refund amount and out of band amount (${formatAmount(refundAmount + creditAmount + outOfBand, invoice.currency)}) must equal the credit note amount (${formatAmount(total, invoice.currency)}).`);
    }
  } else if (p.refund_amount !== undefined && p.refund_amount > 0) {
    throw invalidRequest('You cannot refund a credit note for an invoice that has not been paid. Use a pre-payment credit note instead.', 'refund_amount');
  }
  const count = (await ctx.tx.scan(ctx.scope, { type: CREDIT_NOTE, index: { field: 'invoice', value: invoice.id }, direction: 'older', limit: 1000 })).length;
  const note: Obj = {
    id,
    object: CREDIT_NOTE,
    amount: total,
    amount_shipping: 0,
    created: ctx.now(),
    currency: invoice.currency,
    customer: invoice.customer,
    customer_account: null,
    customer_balance_transaction: null,
    discount_amount: discount,
    discount_amounts: [...discountTotals].map(([d, amount]) => ({ amount, discount: d })),
    effective_at: p.effective_at ?? ctx.now(),
    invoice: invoice.id,
    lines: { data: lines.slice(0, 10), has_more: lines.length > 10, object: 'list', url: `/v1/credit_notes/${id}/lines` },
    livemode: ctx.scope.livemode,
    memo: p.memo ?? null,
    metadata: applyMetadata({}, p.metadata),
    number: `${invoice.number}-CN-${String(count + 1).padStart(2, '0')}`,
    out_of_band_amount: post && outOfBand ? outOfBand : null,
    pdf: `${ctx.origin ?? 'http://127.0.0.1:12111'}/pinstripe/credit_notes/${ctx.scope.account}/${ctx.scope.livemode ? 'live' : 'test'}/${id}/pdf`,
    post_payment_amount: post ? total : 0,
    pre_payment_amount: post ? 0 : total,
    pretax_credit_amounts: [...discountTotals].map(([d, amount]) => ({ amount, discount: d, type: 'discount' })),
    reason: p.reason ?? null,
    refunds: [],
    shipping_cost: null,
    status: 'issued',
    subtotal: gross - discount,
    subtotal_excluding_tax: gross - discount - inclusive,
    total,
    total_excluding_tax: total - exclusive - inclusive,
    total_taxes: [...taxTotals.values()],
    type: post ? 'post_payment' : 'pre_payment',
    voided_at: null,
  };
  (note as Obj)._split = { refundAmount: post ? refundAmount : 0, creditAmount: post ? creditAmount : creditAmount, outOfBand };
  return { built: { note, lines }, inv };
}

async function issue(c: WriteContext, p: Params): Promise<Obj> {
  const ctx = await withInvoiceClock(c, p.invoice);
  const { built, inv } = await build(ctx, p);
  const { note, lines } = built;
  const split = note._split;
  delete note._split;
  const invoice = structuredClone(inv.data);
  if (note.type === 'pre_payment') {
    invoice.pre_payment_credit_notes_amount += note.total;
    invoice.amount_due = Math.max(0, invoice.amount_due - note.total);
    invoice.amount_remaining = Math.max(0, invoice.amount_due - invoice.amount_paid);
    if (split.creditAmount > 0) {
      const txn = await recordCustomerBalance(ctx, invoice.customer, { amount: -split.creditAmount, currency: invoice.currency, type: 'credit_note', credit_note: note.id, invoice: invoice.id });
      note.customer_balance_transaction = txn.id;
    }
    await adjustPaymentIntent(ctx, invoice);
  } else {
    invoice.post_payment_credit_notes_amount += note.total;
    if (split.refundAmount > 0) {
      const piId = (await invoicePayments(ctx, invoice.id)).find((r) => r.data.status === 'paid' && r.data.payment?.payment_intent)?.data.payment.payment_intent;
      if (!piId) throw invalidRequest(`Invoice ${invoice.id} was not paid with a payment that can be refunded; use credit_amount or out_of_band_amount instead.`, 'refund_amount');
      const { createRefund } = await import('./refunds.js');
      const refund = await createRefund(ctx, { payment_intent: piId, amount: split.refundAmount, metadata: {} });
      note.refunds = [{ amount_refunded: split.refundAmount, payment_record_refund: null, refund: refund.id, type: 'refund' }];
    }
    if (split.creditAmount > 0) {
      const txn = await recordCustomerBalance(ctx, invoice.customer, { amount: -split.creditAmount, currency: invoice.currency, type: 'credit_note', credit_note: note.id, invoice: invoice.id });
      note.customer_balance_transaction = txn.id;
    }
  }
  for (const l of lines) await ctx.tx.insert(ctx.scope, { id: l.id, type: CN_LINE, created: ctx.now(), data: canonicalize(l), index: [{ field: 'credit_note', value: note.id }] });
  const data = canonicalize(note);
  await ctx.tx.insert(ctx.scope, { id: data.id, type: CREDIT_NOTE, created: data.created, data, index: cnIndex(data) });
  await emitEvent(ctx, 'credit_note.created', data);
  // Crediting all that was due settles the invoice.
  if (note.type === 'pre_payment' && invoice.amount_remaining === 0 && invoice.status === 'open') {
    await saveInvoice(ctx, inv, invoice);
    const { payInvoice } = await import('../engine/billing/invoices.js');
    await payInvoice(ctx, invoice.id, {});
  } else {
    await saveInvoice(ctx, inv, invoice);
  }
  return data;
}

/** The open invoice's PaymentIntent follows the amount still due. */
async function adjustPaymentIntent(ctx: WriteContext, invoice: Obj): Promise<void> {
  const pay = (await invoicePayments(ctx, invoice.id)).find((r) => r.data.status === 'open' && r.data.payment?.payment_intent);
  if (!pay) return;
  const piRow = await ctx.tx.getForUpdate(ctx.scope, pay.data.payment.payment_intent);
  if (!piRow || !['requires_payment_method', 'requires_confirmation', 'requires_action'].includes(piRow.data.status)) return;
  if (invoice.amount_remaining <= 0) return;
  const pi = canonicalize({ ...piRow.data, amount: invoice.amount_remaining });
  await ctx.tx.update(ctx.scope, { id: piRow.id, version: piRow.version, data: pi, index: piRow.data.customer ? [{ field: 'customer', value: piRow.data.customer }] : [] });
  const p2 = await ctx.tx.getForUpdate(ctx.scope, pay.id);
  await ctx.tx.update(ctx.scope, { id: pay.id, version: p2!.version, data: canonicalize({ ...p2!.data, amount_requested: invoice.amount_remaining }), index: [{ field: 'invoice', value: invoice.id }, { field: 'payment_intent', value: piRow.id }] });
}

function cnIndex(n: Obj): Array<{ field: string; value: string }> {
  return [{ field: 'invoice', value: n.invoice }, { field: 'customer', value: n.customer }];
}

async function withInvoiceClock(c: WriteContext, invoiceId: string | undefined): Promise<WriteContext> {
  if (!invoiceId) return c;
  const inv = await c.db.get(c.scope, invoiceId);
  if (!inv || inv.type !== 'invoice') return c;
  const cust = await c.db.get(c.scope, inv.data.customer);
  return cust ? clockContext(c, cust.data) : c;
}

async function voidNote(c: WriteContext, id: string): Promise<Obj> {
  const row = await loadObject(c, creditNotes, id, 'id', true);
  const ctx = await withInvoiceClock(c, row.data.invoice);
  const note = structuredClone(row.data);
  if (note.status === 'void') throw invalidRequest(`Credit note ${id} has already been voided.`);
  if (note.refunds?.length) throw invalidRequest(`Credit note ${id} cannot be voided because it has refunds.`);
  const inv = await loadInvoice(ctx, note.invoice, true, 'invoice');
  const invoice = structuredClone(inv.data);
  if (note.type === 'pre_payment') {
    if (invoice.status !== 'open' && invoice.status !== 'uncollectible') throw invalidRequest(`Credit note ${id} cannot be voided because its invoice is ${invoice.status}.`);
    invoice.pre_payment_credit_notes_amount -= note.total;
    invoice.amount_due += note.total;
    invoice.amount_remaining = Math.max(0, invoice.amount_due - invoice.amount_paid);
    await adjustPaymentIntent(ctx, invoice);
  } else {
    invoice.post_payment_credit_notes_amount -= note.total;
  }
  if (note.customer_balance_transaction) {
    const txn = (await ctx.db.get(ctx.scope, note.customer_balance_transaction))?.data;
    if (txn) await recordCustomerBalance(ctx, note.customer, { amount: -txn.amount, currency: txn.currency, type: 'credit_note', credit_note: id, invoice: note.invoice });
  }
  note.status = 'void';
  note.voided_at = ctx.now();
  const data = canonicalize(note);
  await ctx.tx.update(ctx.scope, { id, version: row.version, data, index: cnIndex(data) });
  await emitEvent(ctx, 'credit_note.voided', data);
  await saveInvoice(ctx, inv, invoice);
  return data;
}

async function allLines(ctx: ReadContext, id: string): Promise<Obj[]> {
  const rows = await ctx.db.scan(ctx.scope, { type: CN_LINE, index: { field: 'credit_note', value: id }, direction: 'newer', limit: 1000 });
  return rows.filter((r) => !r.deleted).map((r) => r.data);
}

function page(lines: Obj[], p: Params, url: string): Obj {
  const limit = checkLimit(p.limit);
  let start = 0;
  if (p.starting_after !== undefined) {
    const i = lines.findIndex((l) => l.id === p.starting_after);
    if (i < 0) throw noSuchResource('credit_note_line_item', p.starting_after, 'starting_after');
    start = i + 1;
  }
  let end = lines.length;
  if (p.ending_before !== undefined) {
    const i = lines.findIndex((l) => l.id === p.ending_before);
    if (i < 0) throw noSuchResource('credit_note_line_item', p.ending_before, 'ending_before');
    end = i;
    start = Math.max(0, end - limit);
  }
  const data = lines.slice(start, Math.min(end, start + limit));
  return { object: 'list', data, has_more: p.ending_before !== undefined ? start > 0 : start + limit < end, url };
}

/** Preview: the credit note create would issue, computed in a transaction that is rolled back. */
async function preview(c: ReadContext, p: Params): Promise<Built> {
  const store = c.services.store;
  let out: Built | undefined;
  const rollback = new Error('preview rollback');
  try {
    await store.transaction(async (tx) => {
      const w: WriteContext = { ...c, db: tx, tx } as WriteContext;
      const ctx = await withInvoiceClock(w, p.invoice);
      const { built } = await build(ctx, p);
      delete built.note._split;
      out = built;
      throw rollback;
    });
  } catch (err) {
    if (err !== rollback) throw err;
  }
  return out!;
}

export const creditNotes: ResourceDef = {
  object: CREDIT_NOTE,
  prefix: 'cn',
  path: '/v1/credit_notes',
  events: { updated: 'credit_note.updated' },
  index: cnIndex,
  listFilters: (p) => {
    if (p.invoice !== undefined) return { index: { field: 'invoice', value: p.invoice } };
    if (p.customer !== undefined) return { index: { field: 'customer', value: p.customer } };
    return {};
  },
  async update(_ctx, n, p) {
    if (p.memo !== undefined) n.memo = p.memo;
    n.metadata = applyMetadata(n.metadata, p.metadata);
    return n;
  },
  standard: { create: false, list: false },
  operations: () => [
    { method: 'POST', path: '/v1/credit_notes', write: true, handler: (ctx, p) => issue(ctx as WriteContext, p) },
    {
      method: 'GET', path: '/v1/credit_notes', write: false, returnsList: true,
      handler: async (ctx, p) => {
        const { rows, has_more } = await listObjects(ctx, {
          type: CREDIT_NOTE, url: '/v1/credit_notes', limit: p.limit, starting_after: p.starting_after, ending_before: p.ending_before, created: p.created,
          ...(p.invoice !== undefined ? { index: { field: 'invoice', value: p.invoice } } : p.customer !== undefined ? { index: { field: 'customer', value: p.customer } } : {}),
          filter: (d: Obj) => (p.customer === undefined || d.customer === p.customer) && (p.invoice === undefined || d.invoice === p.invoice),
        });
        return { object: 'list', data: rows.map((r) => r.data), has_more, url: '/v1/credit_notes' };
      },
    },
    {
      method: 'GET', path: '/v1/credit_notes/preview', write: false,
      handler: async (ctx, p) => (await preview(ctx, p)).note,
    },
    {
      method: 'GET', path: '/v1/credit_notes/preview/lines', write: false, returnsList: true,
      handler: async (ctx, p) => {
        const { limit, starting_after, ending_before, ...rest } = p;
        return page((await preview(ctx, rest)).lines, { limit, starting_after, ending_before }, '/v1/credit_notes/preview/lines');
      },
    },
    {
      method: 'GET', path: '/v1/credit_notes/{id}/lines', write: false, returnsList: true,
      handler: async (ctx, p, path) => {
        await loadObject(ctx, creditNotes, path.id!, 'id');
        return page(await allLines(ctx, path.id!), p, `/v1/credit_notes/${path.id}/lines`);
      },
    },
    { method: 'POST', path: '/v1/credit_notes/{id}/void', write: true, handler: (ctx, _p, path) => voidNote(ctx as WriteContext, path.id!) },
  ],
};
