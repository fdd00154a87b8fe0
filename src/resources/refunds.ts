// Refunds — https://docs.stripe.com/api/refunds
// Full and partial refunds, several per charge, by charge or payment_intent; over-refunds
// rejected; refunding an uncaptured PaymentIntent cancels it (releasing the authorization);
// a balance transaction per refund; the asynchronous test cards: pm_card_pendingRefund
// (pending → succeeded) and pm_card_refundFail (succeeded → failed, with a refund_failure
// balance transaction), settled REFUND_SETTLE_SECONDS later by a 'refund.settle' timer of the
// scheduler (the refund's customer's test clock, or real time). Events: refund.created /
// refund.updated / refund.failed, charge.refunded, charge.refund.updated.
import { StripeError, invalidRequest, noSuchResource } from '../api/errors.js';
import { applyMetadata } from '../api/metadata.js';
import { canonicalize } from '../api/render.js';
import type { Params } from '../api/params.js';
import type { ReadContext, WriteContext } from '../api/context.js';
import { emitEvent } from '../events/events.js';
import { recordBalanceTransaction } from '../engine/ledger.js';
import { customerTestClock, formatAmount, loadCardRef } from '../engine/payments/index.js';
import { cancelTimer, registerTimeHandler, scheduleTimer } from '../engine/scheduler.js';
import type { StoredObject } from '../store/store.js';
import { charges, eventCharge } from './charges.js';
import { indexEntries, newObjectBase, type Obj, type ResourceDef } from './define.js';
import { closeReview } from './reviews.js';
import { settleEarlyFraudWarning } from './disputes.js';

/** Clock seconds after which an asynchronous test refund settles. */
export const REFUND_SETTLE_SECONDS = 5;
const SETTLE_KIND = 'refund.settle';

async function writeRow(ctx: WriteContext, def: ResourceDef, row: StoredObject, next: Obj): Promise<Obj> {
  const data = canonicalize(next);
  await ctx.tx.update(ctx.scope, { id: row.id, version: row.version, data, index: indexEntries(def, data) });
  return data;
}

/** Keeps the charge's includable `refunds` list in step (newest first, first page). */
function withRefund(ch: Obj, refund: Obj): Obj {
  const others = (ch.refunds?.data ?? []).filter((r: Obj) => r.id !== refund.id);
  const data = [refund, ...others].sort((a, b) => b.created - a.created).slice(0, 10);
  return { ...ch, refunds: { object: 'list', data, has_more: (ch.refunds?.data?.length ?? 0) >= 10, url: `/v1/charges/${ch.id}/refunds` } };
}

async function insertRefund(ctx: WriteContext, chRow: StoredObject, amount: number, p: Params, opts: { captured: boolean }): Promise<Obj> {
  const ch = chRow.data;
  const base = newObjectBase(ctx, refunds);
  const card = opts.captured ? await loadCardRef(ctx, ch.payment_method) : null;
  const behaviour = card?.card.behaviour.refund;
  const status = behaviour === 'pending' ? 'pending' : 'succeeded';
  const txn = opts.captured
    ? await recordBalanceTransaction(ctx, { amount: -amount, currency: ch.currency, type: 'refund', reporting_category: 'refund', source: base.id, description: 'REFUND FOR CHARGE', immediate: true })
    : null;
  const { livemode: _lm, ...baseFields } = base; // refunds carry no livemode field
  const refund: Obj = {
    ...baseFields,
    amount,
    balance_transaction: txn?.id ?? null,
    charge: ch.id,
    currency: ch.currency,
    customer: ch.customer ?? null,
    customer_account: null,
    destination_details: { card: { reference_status: 'pending', reference_type: 'acquirer_reference_number', type: opts.captured ? 'refund' : 'reversal' }, type: 'card' },
    metadata: applyMetadata({}, p.metadata),
    payment_intent: ch.payment_intent,
    payment_method: ch.payment_method,
    reason: p.reason ?? null,
    receipt_number: null,
    source_transfer_reversal: null,
    status,
    transfer_reversal: null,
  };
  const stored = canonicalize(refund);
  await ctx.tx.insert(ctx.scope, { id: stored.id, type: 'refund', created: stored.created, data: stored, index: indexEntries(refunds, stored) });
  await emitEvent(ctx, 'refund.created', publicRefund(stored));
  if (behaviour) await scheduleTimer(ctx, { kind: SETTLE_KIND, key: stored.id, at: ctx.now() + REFUND_SETTLE_SECONDS, testClock: await customerTestClock(ctx, ch.customer) });
  const nextCharge = withRefund({ ...ch, amount_refunded: ch.amount_refunded + amount, refunded: ch.amount_refunded + amount >= (opts.captured ? ch.amount_captured : ch.amount) }, publicRefund(stored));
  const savedCharge = await writeRow(ctx, charges, chRow, nextCharge);
  await emitEvent(ctx, 'charge.refunded', eventCharge(savedCharge));
  if (opts.captured) {
    // Radar's side of a refund: an open review closes (refunded, or refunded_as_fraud), and a
    // fully refunded charge's early fraud warning is no longer actionable.
    if (ch.review) await closeReview(ctx, ch.review, p.reason === 'fraudulent' ? 'refunded_as_fraud' : 'refunded');
    if (savedCharge.refunded && card?.card.behaviour.dispute === 'early_fraud_warning') await settleEarlyFraudWarning(ctx, ch.id);
  }
  return publicRefund(stored);
}

/** Internal settlement fields stay out of responses and events. */
function publicRefund(r: Obj): Obj {
  const { settle_at: _a, settle_to: _b, ...rest } = r;
  return rest;
}

/** Canceling an uncaptured PaymentIntent releases the authorization: a refund of the whole charge. */
export async function releaseAuthorization(ctx: WriteContext, chargeId: string): Promise<void> {
  const row = (await ctx.tx.getForUpdate(ctx.scope, chargeId))!;
  await insertRefund(ctx, row, row.data.amount - row.data.amount_refunded, {}, { captured: false });
}

export async function createRefund(ctx: WriteContext, p: Params): Promise<Obj> {
  if (p.charge === undefined && p.payment_intent === undefined) {
    throw invalidRequest('One of the following params should be provided for this request: payment_intent or charge.');
  }
  if (p.charge !== undefined && p.payment_intent !== undefined) {
    throw invalidRequest('You can only specify one of these parameters: payment_intent, charge.');
  }
  for (const unsupported of ['reverse_transfer', 'refund_application_fee', 'customer', 'origin', 'instructions_email'] as const) {
    if (p[unsupported] !== undefined) throw invalidRequest(`Pinstripe does not support \`${unsupported}\` on refunds yet.`, unsupported);
  }
  let chargeId: string;
  let piRow: StoredObject | null = null;
  if (p.payment_intent !== undefined) {
    piRow = await ctx.tx.getForUpdate(ctx.scope, p.payment_intent);
    if (!piRow || piRow.type !== 'payment_intent') throw noSuchResource('payment_intent', p.payment_intent, 'payment_intent');
    const pi = piRow.data;
    if (!['succeeded', 'requires_capture'].includes(pi.status) || !pi.latest_charge) {
      throw invalidRequest(`This PaymentIntent (${pi.id}) does not have a successful charge to refund.`, 'payment_intent');
    }
    chargeId = pi.latest_charge;
  } else {
    chargeId = p.charge;
  }
  const chRow = await ctx.tx.getForUpdate(ctx.scope, chargeId);
  if (!chRow || chRow.type !== 'charge') throw noSuchResource('charge', chargeId, 'charge');
  const ch = chRow.data;
  if (ch.status !== 'succeeded') throw invalidRequest(`Charge ${ch.id} cannot be refunded because it has a status of ${ch.status}.`, 'charge');
  if (p.currency !== undefined && p.currency.toLowerCase() !== ch.currency) {
    throw invalidRequest(`The currency of the refund (${p.currency.toLowerCase()}) must match the currency of the charge (${ch.currency}).`, 'currency');
  }
  if (ch.disputed) {
    // A chargeback (not an inquiry, whose charge stays refundable) blocks refunds, as on Stripe.
    const open = await ctx.tx.scan(ctx.scope, { type: 'dispute', index: { field: 'charge', value: ch.id }, direction: 'older', limit: 10 });
    if (open.some((d) => !d.data.is_charge_refundable && d.data.status !== 'won' && d.data.payment_method_details?.card?.case_type !== 'inquiry')) {
      throw new StripeError(400, { type: 'invalid_request_error', code: 'charge_disputed', message: `Charge ${ch.id} has been charged back; cannot issue a refund.` });
    }
  }

  if (!ch.captured) {
    // An uncaptured PaymentIntent: the refund cancels it and releases the authorization.
    if (p.amount !== undefined && p.amount !== ch.amount) {
      throw invalidRequest('You cannot partially refund an uncaptured charge. Instead, capture the charge for an amount less than the original amount.', 'amount');
    }
    if (ch.refunded) throw invalidRequest(`Charge ${ch.id} has already been refunded.`, 'charge', 'charge_already_refunded');
    const refund = await insertRefund(ctx, chRow, ch.amount, p, { captured: false });
    piRow ??= ch.payment_intent ? await ctx.tx.getForUpdate(ctx.scope, ch.payment_intent) : null;
    if (piRow && piRow.data.status === 'requires_capture') {
      const pi = canonicalize({ ...piRow.data, status: 'canceled', canceled_at: ctx.now(), cancellation_reason: null, amount_capturable: 0 });
      await ctx.tx.update(ctx.scope, { id: piRow.id, version: piRow.version, data: pi, index: piRow.data.customer ? [{ field: 'customer', value: piRow.data.customer }] : [] });
      await emitEvent(ctx, 'payment_intent.canceled', pi);
      await cancelTimer(ctx, 'payment_intent.authorization_expire', piRow.id);
    }
    return refund;
  }

  const remaining = ch.amount_captured - ch.amount_refunded;
  if (remaining <= 0) throw invalidRequest(`Charge ${ch.id} has already been refunded.`, 'charge', 'charge_already_refunded');
  const amount: number = p.amount ?? remaining;
  if (amount < 1) throw invalidRequest('This value must be greater than or equal to 1.', 'amount');
  if (amount > remaining) {
    const fmt = (n: number) => `${formatAmount(n, ch.currency).replace(/^(?![$€£¥₹₩])/, '')}`;
    throw invalidRequest(
      ch.amount_refunded > 0
        ? `Refund amount (${fmt(amount)}) is greater than unrefunded amount on charge (${fmt(remaining)})`
        : `Refund amount (${fmt(amount)}) is greater than charge amount (${fmt(ch.amount_captured)})`,
      'amount',
    );
  }
  return insertRefund(ctx, chRow, amount, p, { captured: true });
}

/**
 * An asynchronous test refund's time has come (the 'refund.settle' timer): pm_card_pendingRefund
 * goes pending → succeeded, pm_card_refundFail succeeded → failed (a refund_failure balance
 * transaction returns the funds and the charge's amount_refunded drops back).
 */
async function settleRefund(ctx: WriteContext, id: string): Promise<void> {
  const row = await ctx.tx.getForUpdate(ctx.scope, id);
  if (!row || row.type !== 'refund') return;
  const behaviour = (await loadCardRef(ctx, row.data.payment_method))?.card.behaviour.refund;
  const to = behaviour === 'pending' && row.data.status === 'pending' ? 'succeeded' : behaviour === 'fail' && row.data.status === 'succeeded' ? 'failed' : null;
  if (!to) return;
  const { settle_at: _a, settle_to: _b, ...rest } = row.data;
  const next: Obj = { ...rest, status: to };
  if (to === 'failed') {
    const failure = await recordBalanceTransaction(ctx, { amount: row.data.amount, currency: row.data.currency, type: 'refund_failure', reporting_category: 'refund_failure', source: row.id, description: 'REFUND FAILURE', immediate: true });
    next.failure_balance_transaction = failure.id;
    next.failure_reason = 'expired_or_canceled_card';
    next.destination_details = { ...next.destination_details, card: { ...next.destination_details.card, reference_status: 'unavailable' } };
  } else {
    next.destination_details = { ...next.destination_details, card: { ...next.destination_details.card, reference: ctx.services.ids.random(23).toUpperCase(), reference_status: 'available' } };
  }
  const saved = await writeRow(ctx, refunds, row, next);
  await emitEvent(ctx, 'refund.updated', saved, { status: row.data.status });
  if (to === 'failed') {
    await emitEvent(ctx, 'refund.failed', saved);
    const chRow = await ctx.tx.getForUpdate(ctx.scope, saved.charge);
    if (chRow) {
      const amount_refunded = chRow.data.amount_refunded - saved.amount;
      await writeRow(ctx, charges, chRow, withRefund({ ...chRow.data, amount_refunded, refunded: false }, saved));
      await emitEvent(ctx, 'charge.refund.updated', saved);
    }
  }
}

registerTimeHandler(SETTLE_KIND, { run: (ctx, item) => settleRefund(ctx, item.key) });

async function loadRefund(ctx: ReadContext, id: string): Promise<StoredObject> {
  const row = await ctx.db.get(ctx.scope, id);
  if (!row || row.type !== 'refund' || row.deleted) throw noSuchResource('refund', id);
  return row;
}

export const refunds: ResourceDef = {
  object: 'refund',
  prefix: 're',
  path: '/v1/refunds',
  events: { updated: 'refund.updated' },
  index: (r) => [
    ...(r.charge ? [{ field: 'charge', value: r.charge }] : []),
    ...(r.payment_intent ? [{ field: 'payment_intent', value: r.payment_intent }] : []),
  ],
  standard: { create: false, retrieve: false, update: false, list: false },
  operations: () => [
    { method: 'POST', path: '/v1/refunds', write: true, handler: (ctx, p) => createRefund(ctx as WriteContext, p) },
    {
      method: 'GET', path: '/v1/refunds/{id}', write: false,
      handler: async (ctx, _p, path) => publicRefund((await loadRefund(ctx, path.id!)).data),
    },
    {
      method: 'POST', path: '/v1/refunds/{id}', write: true,
      handler: async (c, p, path) => {
        const ctx = c as WriteContext;
        const row = await ctx.tx.getForUpdate(ctx.scope, path.id!);
        if (!row || row.type !== 'refund') throw noSuchResource('refund', path.id!);
        const next = { ...row.data, metadata: applyMetadata(row.data.metadata, p.metadata) };
        const saved = await writeRow(ctx, refunds, row, next);
        if (JSON.stringify(row.data.metadata) !== JSON.stringify(saved.metadata)) await emitEvent(ctx, 'refund.updated', publicRefund(saved), { metadata: row.data.metadata });
        return publicRefund(saved);
      },
    },
    {
      method: 'POST', path: '/v1/refunds/{id}/cancel', write: true,
      handler: async (ctx, _p, path) => {
        const row = await loadRefund(ctx, path.id!);
        throw invalidRequest(`Refund ${row.id} cannot be canceled because it has a status of ${row.data.status}. Only refunds with a status of requires_action can be canceled.`);
      },
    },
    {
      // The charge's own refunds list (the older API stripe-node no longer wraps): same items as /v1/refunds?charge=.
      method: 'GET', path: '/v1/charges/{id}/refunds', paramsKey: 'GET /v1/application_fees/{id}/refunds', write: false, returnsList: true,
      handler: async (ctx, p, path) => {
        const ch = await ctx.db.get(ctx.scope, path.id!);
        if (!ch || ch.type !== 'charge') throw noSuchResource('charge', path.id!);
        const { listObjects } = await import('../api/list.js');
        const url = `/v1/charges/${ch.id}/refunds`;
        const { rows, has_more } = await listObjects(ctx, {
          type: 'refund', url, limit: p.limit, starting_after: p.starting_after, ending_before: p.ending_before, index: { field: 'charge', value: ch.id },
        });
        return { object: 'list', data: rows.map((r) => publicRefund(r.data)), has_more, url };
      },
    },
    {
      method: 'GET', path: '/v1/charges/{id}/refunds/{refund}', paramsKey: 'GET /v1/refunds/{id}', write: false,
      handler: async (ctx, _p, path) => {
        const ch = await ctx.db.get(ctx.scope, path.id!);
        if (!ch || ch.type !== 'charge') throw noSuchResource('charge', path.id!);
        const row = await ctx.db.get(ctx.scope, path.refund!);
        if (!row || row.type !== 'refund' || row.data.charge !== ch.id) throw noSuchResource('refund', path.refund!);
        return publicRefund(row.data);
      },
    },
    {
      method: 'GET', path: '/v1/refunds', write: false, returnsList: true,
      handler: async (ctx, p) => {
        const { listObjects } = await import('../api/list.js');
        const index = p.charge !== undefined ? { field: 'charge', value: p.charge } : p.payment_intent !== undefined ? { field: 'payment_intent', value: p.payment_intent } : undefined;
        const { rows, has_more } = await listObjects(ctx, {
          type: 'refund', url: '/v1/refunds', limit: p.limit, starting_after: p.starting_after, ending_before: p.ending_before, created: p.created, index,
          filter: p.charge !== undefined && p.payment_intent !== undefined ? (d) => d.payment_intent === p.payment_intent : undefined,
        });
        return { object: 'list', data: rows.map((r) => publicRefund(r.data)), has_more, url: '/v1/refunds' };
      },
    },
  ],
};
