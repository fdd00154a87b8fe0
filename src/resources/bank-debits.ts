// Bank debits through PaymentIntents (us_bank_account, sepa_debit): confirmation leaves the
// intent `processing` with a `pending` Charge (payment_intent.processing, charge.pending);
// BANK_SETTLE_SECONDS later a 'bank_debit.settle' timer of the scheduler (the intent's customer's
// test clock, or real time) settles it: the debit succeeds (balance transaction with the
// 0.8% fee capped at 5.00, charge.succeeded, payment_intent.succeeded) or fails with the test
// account's failure code (charge.failed, payment_intent.payment_failed, back to
// requires_payment_method).
import { invalidRequest } from '../api/errors.js';
import { canonicalize } from '../api/render.js';
import type { WriteContext } from '../api/context.js';
import { emitEvent } from '../events/events.js';
import { recordBalanceTransaction } from '../engine/ledger.js';
import { BANK_SETTLE_SECONDS, bankFee, bankOutcome, customerTestClock, loadRefKey } from '../engine/payments/index.js';
import { registerTimeHandler, scheduleTimer } from '../engine/scheduler.js';
import type { StoredObject } from '../store/store.js';
import { charges, eventCharge, insertCharge } from './charges.js';
import { indexEntries, type Obj } from './define.js';

const SETTLE_KIND = 'bank_debit.settle';
const CURRENCIES: Record<string, string> = { us_bank_account: 'usd', sepa_debit: 'eur' };

export async function bankAttempt(
  ctx: WriteContext, pi: Obj, pm: Obj,
  savePi: (next: Obj, eventType: string) => Promise<Obj>,
): Promise<Obj> {
  const type = pm.type as string;
  if (!pi.automatic_payment_methods && !pi.payment_method_types.includes(type)) {
    throw invalidRequest(`The PaymentMethod provided (${type}) is not allowed for this PaymentIntent. Please attach a PaymentMethod of one of the following types: ${pi.payment_method_types.join(', ')}. Alternatively update the allowed payment_method_types for this PaymentIntent to include "${type}".`, 'payment_method');
  }
  if (pi.currency !== CURRENCIES[type]) {
    throw invalidRequest(`The currency provided (${pi.currency}) is invalid. Payments with ${type} support the following currencies: ${CURRENCIES[type]}.`, 'currency');
  }
  if (pi.capture_method === 'manual') throw invalidRequest(`capture_method=manual is not supported for ${type} payments.`, 'capture_method');
  const charge = await insertCharge(ctx, {
    amount: pi.amount, currency: pi.currency, customer: pi.customer, description: pi.description, metadata: pi.metadata,
    payment_intent: pi.id, paymentMethod: pm, outcome: {
      advice_code: null, network_advice_code: null, network_decline_code: null, network_status: 'approved_by_network', reason: null,
      risk_level: 'not_assessed', risk_score: null, seller_message: 'Payment complete.', type: 'authorized',
    },
    checks: { address_line1_check: null, address_postal_code_check: null, cvc_check: null }, threeDS: null,
    succeeded: false, pending: true, captured: true, receipt_email: pi.receipt_email, shipping: pi.shipping,
    statement_descriptor: pi.statement_descriptor, statement_descriptor_suffix: pi.statement_descriptor_suffix, transfer_group: pi.transfer_group,
    balance_transaction: null, methodDetails: { [type]: { ...pm[type], mandate: null }, type },
  });
  await scheduleTimer(ctx, { kind: SETTLE_KIND, key: pi.id, at: ctx.now() + BANK_SETTLE_SECONDS, testClock: await customerTestClock(ctx, pi.customer) });
  pi.status = 'processing';
  pi.latest_charge = charge.id;
  return savePi(pi, 'payment_intent.processing');
}

async function write(ctx: WriteContext, row: StoredObject, data: Obj, def: typeof charges | null): Promise<Obj> {
  const c = canonicalize(data);
  const { paymentIntents } = await import('./payment-intents.js');
  await ctx.tx.update(ctx.scope, { id: row.id, version: row.version, data: c, index: indexEntries(def ?? paymentIntents, c) });
  return c;
}

/** A processing debit's time has come (the 'bank_debit.settle' timer): it succeeds or fails with the account's outcome. */
async function settleBankDebit(w: WriteContext, id: string): Promise<void> {
  const piRow = await w.tx.getForUpdate(w.scope, id);
  if (!piRow || piRow.type !== 'payment_intent' || piRow.data.status !== 'processing' || !piRow.data.latest_charge) return;
  const chRow = await w.tx.getForUpdate(w.scope, piRow.data.latest_charge);
  if (!chRow) return;
  const failure = bankOutcome((await loadRefKey(w, piRow.data.payment_method)) ?? '');
  const pi = structuredClone(piRow.data);
  const ch = structuredClone(chRow.data);
  if (!failure) {
    const txn = await recordBalanceTransaction(w, {
      amount: ch.amount, currency: ch.currency, type: 'payment', reporting_category: 'charge', source: ch.id, description: ch.description, fee: bankFee(ch.amount),
    });
    Object.assign(ch, { status: 'succeeded', paid: true, balance_transaction: txn.id, amount_captured: ch.amount, calculated_statement_descriptor: ch.statement_descriptor ?? 'PINSTRIPE' });
    const savedCh = await write(w, chRow, ch, charges);
    await emitEvent(w, 'charge.succeeded', eventCharge(savedCh));
    Object.assign(pi, { status: 'succeeded', amount_received: pi.amount });
    await emitEvent(w, 'payment_intent.succeeded', await write(w, piRow, pi, null));
  } else {
    Object.assign(ch, { status: 'failed', failure_code: failure.code, failure_message: failure.message, amount_captured: 0, captured: false,
      outcome: { ...ch.outcome, network_status: 'declined_by_network', reason: failure.code, seller_message: failure.message, type: 'issuer_declined' } });
    const savedCh = await write(w, chRow, ch, charges);
    await emitEvent(w, 'charge.failed', eventCharge(savedCh));
    const pmRow = await w.tx.get(w.scope, pi.payment_method);
    Object.assign(pi, {
      status: 'requires_payment_method', payment_method: null,
      last_payment_error: { charge: ch.id, code: failure.code, doc_url: `https://stripe.com/docs/error-codes/${failure.code.replace(/_/g, '-')}`, message: failure.message, payment_method: pmRow?.data ?? null, type: 'invalid_request_error' },
    });
    await emitEvent(w, 'payment_intent.payment_failed', await write(w, piRow, pi, null));
  }
}

registerTimeHandler(SETTLE_KIND, { run: (ctx, item) => settleBankDebit(ctx, item.key) });
