// Payouts — https://docs.stripe.com/api/payouts — manual payouts from the available balance
// (`balance_insufficient` when short), a payout balance transaction, pending → paid at
// arrival_date by a 'payout.settle' timer of the scheduler (payout.updated, payout.paid), or
// pending → failed for Stripe's failing test bank accounts (payout.updated, payout.failed, the
// funds back in a payout_failure balance transaction), cancel
// while pending (payout.canceled, the timer cancelled, with a
// payout_cancel credit), update (metadata), list (status, arrival_date, destination, created).
// Destinations (payout-destinations.ts): the default bank account, tokenized bank accounts and
// debit cards (Stripe's payout test cards; `type: card`). Instant Payouts (`method: instant`):
// USD only, an eligible destination (instant_payouts_unsupported otherwise), up to the
// instant_available balance (card funds, pending included: the shortfall is an `advance` now and
// an `advance_funding` debit of the pending funds), Stripe's 1% fee (at least $0.50) on the payout
// balance transaction, arrival_date now, paid at the next scheduler tick, not cancelable.
import { StripeError, invalidRequest, noSuchResource } from '../api/errors.js';
import { applyMetadata } from '../api/metadata.js';
import { createdRange } from '../api/list.js';
import { canonicalize } from '../api/render.js';
import type { Params } from '../api/params.js';
import type { ReadContext, WriteContext } from '../api/context.js';
import { emitEvent, previousAttributes } from '../events/events.js';
import { computeBalance, recordBalanceTransaction } from '../engine/ledger.js';
import { checkCurrency, payoutFailure } from '../engine/payments/index.js';
import { INSTANT_UNSUPPORTED_BANK, INSTANT_UNSUPPORTED_CARD, cardPayoutFailure, instantAvailable, instantPayoutFee, resolvePayoutDestination } from './payout-destinations.js';
import { cancelTimer, registerTimeHandler, scheduleTimer } from '../engine/scheduler.js';
import type { StoredObject } from '../store/store.js';
import { indexEntries, insertObject, newObjectBase, type Obj, type ResourceDef } from './define.js';

const DAY = 86_400;
const SETTLE_KIND = 'payout.settle';
/** Hidden row `<po>:failure` of a payout that will fail (its destination's failure code). */
const FAILURE_ROW = 'payout_failure';
const INSUFFICIENT_INSTANT = 'You have insufficient funds in your Stripe account for this transfer. Your instant_available balance is too low (Instant Payouts can pay out card funds, pending ones included, less the Instant Payouts fee).';
const INSUFFICIENT = 'You have insufficient funds in your Stripe account for this transfer. Your card balance is too low. You can use the /v1/balance endpoint to view your Stripe balance (for more details, see stripe.com/docs/api#balance).';

async function write(ctx: WriteContext, row: StoredObject, next: Obj): Promise<Obj> {
  const data = canonicalize(next);
  await ctx.tx.update(ctx.scope, { id: row.id, version: row.version, data, index: indexEntries(payouts, data) });
  return data;
}

async function create(ctx: WriteContext, p: Params): Promise<Obj> {
  const currency = checkCurrency(p.currency);
  if (p.amount < 1) throw invalidRequest('This value must be greater than or equal to 1.', 'amount');
  if (p.source_type !== undefined && p.source_type !== 'card') throw invalidRequest(`Pinstripe pays out the card balance only (source_type ${p.source_type}).`, 'source_type');
  const instant = p.method === 'instant';
  if (instant && currency !== 'usd') {
    throw new StripeError(400, { type: 'invalid_request_error', code: 'instant_payouts_currency_disabled', param: 'currency', message: `Instant Payouts are not available in ${currency}. Try a standard payout instead.` });
  }
  // The destination: the account's default bank account, a tokenized bank account or a debit
  // card, whose Stripe test number decides the outcome.
  const dest = await resolvePayoutDestination(ctx, p.destination);
  if (instant && !dest.instantEligible) {
    throw new StripeError(400, { type: 'invalid_request_error', code: 'instant_payouts_unsupported', param: 'destination', message: dest.type === 'card' ? INSTANT_UNSUPPORTED_CARD : INSTANT_UNSUPPORTED_BANK });
  }
  const failure = dest.failure;
  const balance = await computeBalance(ctx);
  const available = balance.available.find((b: Obj) => b.currency === currency)?.amount ?? 0;
  const fee = instant ? instantPayoutFee(p.amount) : 0;
  if (instant) {
    // Card funds can be paid out instantly before they are available: the shortfall is advanced
    // from the pending balance (an `advance` now, an `advance_funding` when the funds arrive).
    if (instantAvailable(balance)[0]!.amount < p.amount + fee) throw new StripeError(400, { type: 'invalid_request_error', code: 'balance_insufficient', message: INSUFFICIENT_INSTANT });
  } else if (available < p.amount) {
    throw new StripeError(400, { type: 'invalid_request_error', code: 'balance_insufficient', message: INSUFFICIENT });
  }
  const base = newObjectBase(ctx, payouts);
  const shortfall = instant ? p.amount + fee - Math.max(0, available) : 0;
  if (shortfall > 0) {
    await recordBalanceTransaction(ctx, { amount: shortfall, currency, type: 'advance', reporting_category: 'advance', source: base.id, description: 'Instant Payout advance', immediate: true });
    await recordBalanceTransaction(ctx, { amount: -shortfall, currency, type: 'advance_funding', reporting_category: 'advance_funding', source: base.id, description: 'Instant Payout advance funding' });
  }
  const txn = await recordBalanceTransaction(ctx, {
    amount: -p.amount, currency, type: 'payout', reporting_category: 'payout', source: base.id, description: p.description ?? 'STRIPE PAYOUT', immediate: true,
    ...(fee ? { fee, feeDescription: 'Instant Payouts fee' } : {}),
  });
  const payout: Obj = {
    ...base,
    amount: p.amount,
    application_fee: null,
    application_fee_amount: null,
    arrival_date: instant ? ctx.now() : Math.floor(ctx.now() / DAY) * DAY + DAY,
    automatic: false,
    balance_transaction: txn.id,
    currency,
    description: p.description ?? null,
    destination: dest.id,
    failure_balance_transaction: null,
    failure_code: null,
    failure_message: null,
    metadata: applyMetadata({}, p.metadata),
    method: p.method ?? 'standard',
    original_payout: null,
    payout_method: null,
    reconciliation_status: 'not_applicable',
    reversed_by: null,
    source_type: 'card',
    statement_descriptor: p.statement_descriptor ?? null,
    status: 'pending',
    trace_id: { status: 'pending', value: null },
    type: dest.type,
  };
  const stored = await insertObject(ctx, payouts, payout);
  if (failure) await ctx.tx.insert(ctx.scope, { id: `${stored.id}:failure`, type: FAILURE_ROW, created: ctx.now(), data: { code: failure }, index: [] });
  await emitEvent(ctx, 'payout.created', stored);
  // Payouts belong to the account, not to a customer: they live in real time.
  await scheduleTimer(ctx, { kind: SETTLE_KIND, key: stored.id, at: stored.arrival_date, testClock: null });
  return stored;
}

/**
 * A pending payout's arrival date has come (the 'payout.settle' timer): it is paid, or, sent to
 * one of Stripe's failing test bank accounts, it fails with the bank's code and the funds
 * return to the balance (a payout_failure balance transaction).
 */
async function settlePayout(ctx: WriteContext, id: string): Promise<void> {
  const row = await ctx.tx.getForUpdate(ctx.scope, id);
  if (!row || row.type !== 'payout' || row.data.status !== 'pending') return;
  const failure = await ctx.tx.get(ctx.scope, `${id}:failure`);
  const reason = failure?.type === FAILURE_ROW ? payoutFailure(failure.data.code) ?? cardPayoutFailure(failure.data.code) : null;
  if (reason) {
    const credit = await recordBalanceTransaction(ctx, { amount: row.data.amount, currency: row.data.currency, type: 'payout_failure', reporting_category: 'payout_reversal', source: row.id, description: 'PAYOUT FAILURE', immediate: true });
    const failed = await write(ctx, row, { ...row.data, status: 'failed', failure_balance_transaction: credit.id, failure_code: reason.code, failure_message: reason.message, trace_id: { status: 'unsupported', value: null } });
    await emitEvent(ctx, 'payout.updated', failed, previousAttributes(row.data, failed));
    await emitEvent(ctx, 'payout.failed', failed);
    return;
  }
  const saved = await write(ctx, row, { ...row.data, status: 'paid', trace_id: { status: 'supported', value: ctx.services.ids.random(16).toUpperCase() } });
  await emitEvent(ctx, 'payout.updated', saved, previousAttributes(row.data, saved));
  await emitEvent(ctx, 'payout.paid', saved);
}

registerTimeHandler(SETTLE_KIND, { run: (ctx, item) => settlePayout(ctx, item.key) });

async function load(ctx: ReadContext, id: string): Promise<StoredObject> {
  const row = 'tx' in ctx ? await (ctx as WriteContext).tx.getForUpdate(ctx.scope, id) : await ctx.db.get(ctx.scope, id);
  if (!row || row.type !== 'payout') throw noSuchResource('payout', id);
  return row;
}

export const payouts: ResourceDef = {
  object: 'payout',
  prefix: 'po',
  path: '/v1/payouts',
  index: (po) => [
    { field: 'status', value: po.status },
  ],
  standard: { retrieve: false, list: false },
  operations: () => [
    { method: 'POST', path: '/v1/payouts', write: true, handler: (ctx, p) => create(ctx as WriteContext, p) },
    { method: 'GET', path: '/v1/payouts/{id}', write: false, handler: async (ctx, _p, path) => (await load(ctx, path.id!)).data },
    {
      method: 'POST', path: '/v1/payouts/{id}', write: true,
      handler: async (c, p, path) => {
        const ctx = c as WriteContext;
        const row = await load(ctx, path.id!);
        const saved = await write(ctx, row, { ...row.data, metadata: applyMetadata(row.data.metadata, p.metadata) });
        const prev = previousAttributes(row.data, saved);
        if (prev) await emitEvent(ctx, 'payout.updated', saved, prev);
        return saved;
      },
    },
    {
      method: 'POST', path: '/v1/payouts/{id}/cancel', write: true,
      handler: async (c, _p, path) => {
        const ctx = c as WriteContext;
        const row = await load(ctx, path.id!);
        if (row.data.status !== 'pending') throw invalidRequest('Payouts can only be canceled while they are pending.');
        if (row.data.method === 'instant') throw invalidRequest('Instant Payouts cannot be canceled.');
        const credit = await recordBalanceTransaction(ctx, { amount: row.data.amount, currency: row.data.currency, type: 'payout_cancel', reporting_category: 'payout_reversal', source: row.id, description: 'PAYOUT CANCEL', immediate: true });
        const saved = await write(ctx, row, { ...row.data, status: 'canceled', failure_balance_transaction: credit.id });
        await cancelTimer(ctx, SETTLE_KIND, row.id);
        await emitEvent(ctx, 'payout.canceled', saved);
        return saved;
      },
    },
    {
      method: 'GET', path: '/v1/payouts', write: false, returnsList: true,
      handler: async (ctx, p) => {
        const { listObjects } = await import('../api/list.js');
        const arrival = createdRange(p.arrival_date);
        const { rows, has_more } = await listObjects(ctx, {
          type: 'payout', url: '/v1/payouts', limit: p.limit, starting_after: p.starting_after, ending_before: p.ending_before, created: p.created,
          index: p.status !== undefined ? { field: 'status', value: p.status } : undefined,
          filter: (d) => (p.destination === undefined || d.destination === p.destination)
            && (!arrival || ((arrival.gt === undefined || d.arrival_date > arrival.gt) && (arrival.gte === undefined || d.arrival_date >= arrival.gte)
              && (arrival.lt === undefined || d.arrival_date < arrival.lt) && (arrival.lte === undefined || d.arrival_date <= arrival.lte))),
        });
        return { object: 'list', data: rows.map((r) => r.data), has_more, url: '/v1/payouts' };
      },
    },
  ],
};
