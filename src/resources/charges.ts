// Charges — https://docs.stripe.com/api/charges
// Charges are made by the payments flow (PaymentIntent confirmation); this family serves
// retrieve, update (charge.updated), list (customer, payment_intent, transfer_group, created),
// search, and capture of a PaymentIntent's uncaptured charge.
import { invalidRequest, noSuchResource } from '../api/errors.js';
import { applyMetadata } from '../api/metadata.js';
import { STRIPE_SEARCH_FIELDS } from '../api/search-query.js';
import { shipping } from '../api/shapes.js';
import type { WriteContext } from '../api/context.js';
import { chargeMethodDetails, loadCardRef, type Checks, type Outcome, type ThreeDSResult } from '../engine/payments/index.js';
import { cardFee, recordBalanceTransaction } from '../engine/ledger.js';
import { canonicalize, isCanonical } from '../api/render.js';
import { emitEvent } from '../events/events.js';
import type { StoredObject } from '../store/store.js';
import { indexEntries, newObjectBase, type Obj, type ResourceDef } from './define.js';

export interface NewCharge {
  /** A charge id drawn beforehand (its balance transaction names it). */
  id?: string;
  amount: number;
  currency: string;
  customer: string | null;
  description: string | null;
  metadata?: Record<string, string>;
  payment_intent: string | null;
  paymentMethod: Obj;
  outcome: Outcome;
  checks: Checks;
  threeDS: ThreeDSResult | null;
  succeeded: boolean;
  /** Bank debits: the charge is pending until the debit settles. */
  pending?: boolean;
  /** Manual capture: the authorization expires then (payment_method_details.card.capture_before). */
  captureBefore?: number;
  /** Manual capture with incremental authorization requested and supported (payment_method_details.card.incremental_authorization). */
  incrementalAuthorization?: boolean;
  /** payment_method_details for non-card methods. */
  methodDetails?: Obj;
  captured: boolean;
  failure?: { code: string; message: string } | null;
  receipt_email: string | null;
  shipping: Obj | null;
  statement_descriptor: string | null;
  statement_descriptor_suffix: string | null;
  transfer_group: string | null;
  balance_transaction: string | null;
  review?: string | null;
}

/** Builds and stores a Charge; emits charge.succeeded or charge.failed. */
export async function insertCharge(ctx: WriteContext, c: NewCharge): Promise<Obj> {
  const base = newObjectBase(ctx, charges);
  if (c.id) base.id = c.id;
  const pm = c.paymentMethod;
  const methodDetails: Obj = c.methodDetails ?? chargeMethodDetails(pm.card, c.checks, c.amount, c.threeDS, c.succeeded && !c.captured);
  if (c.captureBefore !== undefined && methodDetails.card) methodDetails.card.capture_before = c.captureBefore;
  if (c.incrementalAuthorization && methodDetails.card) methodDetails.card.incremental_authorization = { status: 'available' };
  // One literal (no spread, no later additions): V8 builds it in one go.
  const ch: Obj = {
    id: base.id,
    object: base.object,
    amount: c.amount,
    amount_captured: c.captured && !c.pending ? c.amount : 0,
    amount_refunded: 0,
    application: null,
    application_fee: null,
    application_fee_amount: null,
    balance_transaction: c.balance_transaction,
    billing_details: pm.billing_details,
    calculated_statement_descriptor: c.succeeded ? (c.statement_descriptor ?? 'PINSTRIPE') : null,
    captured: c.captured,
    created: base.created,
    currency: c.currency,
    customer: c.customer,
    description: c.description,
    disputed: false,
    failure_balance_transaction: null,
    failure_code: c.failure?.code ?? null,
    failure_message: c.failure?.message ?? null,
    fraud_details: {},
    livemode: base.livemode,
    metadata: c.metadata ?? {},
    on_behalf_of: null,
    outcome: c.outcome,
    paid: c.succeeded,
    payment_intent: c.payment_intent,
    payment_method: pm.id,
    payment_method_details: methodDetails,
    receipt_email: c.receipt_email,
    receipt_number: null,
    receipt_url: null,
    refunded: false,
    refunds: { object: 'list', data: [], has_more: false, url: `/v1/charges/${base.id}/refunds` },
    review: c.review ?? null,
    shipping: c.shipping,
    source: null,
    source_transfer: null,
    statement_descriptor: c.statement_descriptor,
    statement_descriptor_suffix: c.statement_descriptor_suffix,
    status: c.succeeded ? 'succeeded' : c.pending ? 'pending' : 'failed',
    transfer_data: null,
    transfer_group: c.transfer_group,
  };
  // insertObject's work, without copying a charge that is canonical already (the literal is in
  // canonical order; its nested parts usually are), and with the event's JSON cut from the
  // stored JSON: the event view is the charge without its (empty) refunds list.
  const stored = isCanonical(ch) ? ch : canonicalize(ch);
  const json = JSON.stringify(stored);
  await ctx.tx.insert(ctx.scope, { id: stored.id, type: charges.object, created: stored.created, data: stored, json, index: indexEntries(charges, stored) });
  const refundsJson = `"refunds":${JSON.stringify(stored.refunds)},`;
  const at = json.indexOf(refundsJson);
  const type = c.succeeded ? 'charge.succeeded' : c.pending ? 'charge.pending' : 'charge.failed';
  if (at > 0 && json.indexOf(refundsJson, at + 1) < 0) {
    // The event is stored as this text; the object handed along only shapes the in-memory event
    // emitEvent returns (unused here), so the charge itself stands in for its view.
    await emitEvent(ctx, type, stored, undefined, json.slice(0, at) + json.slice(at + refundsJson.length));
  } else {
    await emitEvent(ctx, type, eventCharge(stored));
  }
  return stored;
}

/**
 * Captures `amount` of an authorized charge (a PaymentIntent's or a legacy one): the charge's
 * balance transaction with the card fee, the captured fields (capturing less releases the
 * rest, recorded as refunded), charge.captured, then the dispute cards' after-capture work.
 * `ch` is the caller's copy of the charge with any other changes it makes.
 */
export async function captureChargeRow(ctx: WriteContext, row: StoredObject, ch: Obj, amount: number): Promise<Obj> {
  const card = await loadCardRef(ctx, ch.payment_method);
  const txn = await recordBalanceTransaction(ctx, {
    amount, currency: ch.currency, type: 'charge', reporting_category: 'charge', source: ch.id, description: ch.description,
    fee: cardFee(amount, ch.currency), immediate: !!card?.card.behaviour.bypassPending,
  });
  ch.captured = true;
  ch.amount_captured = amount;
  ch.balance_transaction = txn.id;
  if (amount < ch.amount) ch.amount_refunded = ch.amount - amount;
  const data = canonicalize(ch);
  await ctx.tx.update(ctx.scope, { id: ch.id, version: row.version, data, index: indexEntries(charges, data) });
  await emitEvent(ctx, 'charge.captured', eventCharge(data));
  await (await import('./disputes.js')).afterCapture(ctx, ch.id);
  return data;
}

/** Charges as Events carry them: without the includable refunds list. */
export function eventCharge(ch: Obj): Obj {
  // A copy without the key, in the charge's own key order: a canonical charge gives a canonical
  // view, which emitEvent takes as it is ({...ch, refunds: undefined} had to be canonicalized again).
  const view: Obj = {};
  for (const k in ch) if (k !== 'refunds') view[k] = ch[k];
  return view;
}

export const charges: ResourceDef = {
  object: 'charge',
  prefix: 'ch',
  path: '/v1/charges',
  events: { updated: 'charge.updated' },
  includable: ['refunds'],
  search: STRIPE_SEARCH_FIELDS.charges,
  index: (ch) => [
    ...(ch.customer ? [{ field: 'customer', value: ch.customer }] : []),
    ...(ch.payment_intent ? [{ field: 'payment_intent', value: ch.payment_intent }] : []),
    ...(ch.transfer_group ? [{ field: 'transfer_group', value: ch.transfer_group }] : []),
  ],
  listFilters: (p) => {
    if (p.payment_intent !== undefined) return { index: { field: 'payment_intent', value: p.payment_intent }, filter: p.customer !== undefined ? (d) => d.customer === p.customer : undefined };
    if (p.customer !== undefined) return { index: { field: 'customer', value: p.customer }, filter: p.transfer_group !== undefined ? (d) => d.transfer_group === p.transfer_group : undefined };
    if (p.transfer_group !== undefined) return { index: { field: 'transfer_group', value: p.transfer_group } };
    return {};
  },
  standard: { retrieve: false, list: false },
  operations: (def) => [
    {
      method: 'GET', path: '/v1/charges/{id}', write: false,
      handler: async (ctx, _p, path) => {
        const row = await ctx.db.get(ctx.scope, path.id!);
        if (!row || row.type !== 'charge') throw noSuchResource('charge', path.id!);
        return row.data;
      },
    },
    {
      method: 'GET', path: '/v1/charges', write: false, returnsList: true,
      handler: async (ctx, p) => {
        const { listObjects } = await import('../api/list.js');
        const plan = def.listFilters!(p);
        const { rows, has_more } = await listObjects(ctx, { type: 'charge', url: '/v1/charges', limit: p.limit, starting_after: p.starting_after, ending_before: p.ending_before, created: p.created, ...plan });
        return { object: 'list', data: rows.map((r) => r.data), has_more, url: '/v1/charges' };
      },
    },
    {
      method: 'POST', path: '/v1/charges', write: true,
      handler: async (ctx, p) => (await import('./legacy-charges.js')).createLegacyCharge(ctx as WriteContext, p),
    },
    {
      method: 'POST', path: '/v1/charges/{id}/capture', write: true,
      handler: async (ctx, p, path) => (await import('./legacy-charges.js')).captureCharge(ctx as WriteContext, path.id!, p),
    },
  ],
  async update(_ctx, ch, p) {
    if (p.description !== undefined) ch.description = p.description;
    if (p.receipt_email !== undefined) ch.receipt_email = p.receipt_email;
    if (p.shipping !== undefined) ch.shipping = shipping(p.shipping);
    if (p.transfer_group !== undefined) {
      if (ch.transfer_group && p.transfer_group !== ch.transfer_group) throw invalidRequest('transfer_group cannot be changed once set.', 'transfer_group');
      ch.transfer_group = p.transfer_group;
    }
    if (p.fraud_details !== undefined) ch.fraud_details = p.fraud_details?.user_report ? { user_report: p.fraud_details.user_report } : {};
    if (p.customer !== undefined) {
      if (ch.customer && p.customer !== ch.customer) throw invalidRequest('This charge already has a customer; it cannot be changed.', 'customer');
      ch.customer = p.customer;
    }
    ch.metadata = applyMetadata(ch.metadata, p.metadata);
    return ch;
  },
};
