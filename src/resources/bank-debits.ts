// Bank debits through PaymentIntents (us_bank_account, sepa_debit): confirmation makes a Mandate
// and, for an ACH account entered by hand, first waits in requires_action
// (next_action verify_with_microdeposits) until verify_microdeposits accepts Stripe's test values
// (amounts 32 and 45 or descriptor code SM11AA; 10/11 or SM33CC exceed the attempts, 40/41 or
// SM44DD time out, other values mismatch, three mismatches exceed). The debit leaves the
// intent `processing` with a `pending` Charge (payment_intent.processing, charge.pending);
// BANK_SETTLE_SECONDS later a 'bank_debit.settle' timer of the scheduler (the intent's customer's
// test clock, or real time) settles it: the debit succeeds (balance transaction with the
// 0.8% fee capped at 5.00, charge.succeeded, payment_intent.succeeded) or fails with the test
// account's failure code (charge.failed, payment_intent.payment_failed, back to
// requires_payment_method).
import { StripeError, invalidRequest } from '../api/errors.js';
import type { Params } from '../api/params.js';
import { canonicalize } from '../api/render.js';
import type { WriteContext } from '../api/context.js';
import { emitEvent } from '../events/events.js';
import { recordBalanceTransaction } from '../engine/ledger.js';
import {
  BANK_SETTLE_SECONDS, MICRODEPOSIT_ATTEMPTS, bankDisputes, bankMicrodepositsFail, bankSettleSeconds, MICRODEPOSIT_ERRORS, bankFee, bankOutcome, bankStaysProcessing, customerTestClock,
  loadBankVerification, loadRefKey, microdepositOutcome, notifyPaymentIntentFailed, notifyPaymentIntentSucceeded, saveBankVerification,
} from '../engine/payments/index.js';
import { activateMandate, createMandate } from './mandates.js';
import { openBankDispute } from './disputes.js';
import { registerTimeHandler, scheduleTimer } from '../engine/scheduler.js';
import type { StoredObject } from '../store/store.js';
import { charges, eventCharge, insertCharge } from './charges.js';
import { indexEntries, type Obj } from './define.js';

const SETTLE_KIND = 'bank_debit.settle';
const MICRODEPOSIT_FAIL_KIND = 'bank_debit.microdeposits_fail';
const CURRENCIES: Record<string, string> = { us_bank_account: 'usd', sepa_debit: 'eur' };

const MANDATE_POINTER = 'pinstripe.intent_mandate';

/** Where an intent's mandate id is kept (PaymentIntents have no `mandate` field; their charges do). */
async function intentMandate(ctx: WriteContext, piId: string): Promise<string | null> {
  const row = await ctx.tx.get(ctx.scope, `${piId}.mandate`);
  return row && row.type === MANDATE_POINTER ? (row.data.mandate as string) : null;
}

/** `next_action` of an intent whose bank account awaits microdeposit verification. */
export function microdepositAction(ctx: WriteContext, intentId: string): Obj {
  const origin = ctx.origin ?? 'http://127.0.0.1:12111';
  return {
    type: 'verify_with_microdeposits',
    verify_with_microdeposits: {
      arrival_date: ctx.now() + 86_400,
      hosted_verification_url: `${origin}/pinstripe/microdeposit/${ctx.scope.account}/${intentId}`,
      microdeposit_type: 'descriptor_code',
    },
  };
}

/** Checks a bank PaymentMethod can pay this intent (type allowed, currency, automatic capture). */
function checkBankIntent(pi: Obj, pm: Obj): void {
  const type = pm.type as string;
  if (!pi.automatic_payment_methods && !pi.payment_method_types.includes(type)) {
    throw invalidRequest(`The PaymentMethod provided (${type}) is not allowed for this PaymentIntent. Please attach a PaymentMethod of one of the following types: ${pi.payment_method_types.join(', ')}. Alternatively update the allowed payment_method_types for this PaymentIntent to include "${type}".`, 'payment_method');
  }
  if (pi.currency !== CURRENCIES[type]) {
    throw invalidRequest(`The currency provided (${pi.currency}) is invalid. Payments with ${type} support the following currencies: ${CURRENCIES[type]}.`, 'currency');
  }
  if (pi.capture_method === 'manual') throw invalidRequest(`capture_method=manual is not supported for ${type} payments.`, 'capture_method');
}

/**
 * Confirmation with a bank account: a mandate is made (pending for an unverified ACH account,
 * whose intent then waits in requires_action for verify_microdeposits), and the debit starts.
 */
export async function bankAttempt(
  ctx: WriteContext, pi: Obj, pm: Obj,
  savePi: (next: Obj, eventType: string) => Promise<Obj>,
  mandateData?: Params | null,
): Promise<Obj> {
  checkBankIntent(pi, pm);
  const verified = pm.type !== 'us_bank_account' || (await loadBankVerification(ctx, pm.id)).verified;
  const mandate = await createMandate(ctx, {
    paymentMethod: pm, mandateData, status: verified ? 'active' : 'pending',
    singleUse: pi.setup_future_usage ? null : { amount: pi.amount, currency: pi.currency },
  });
  const pointer = await ctx.tx.get(ctx.scope, `${pi.id}.mandate`);
  if (pointer) await ctx.tx.update(ctx.scope, { id: pointer.id, version: pointer.version, data: { mandate: mandate.id }, index: [] });
  else await ctx.tx.insert(ctx.scope, { id: `${pi.id}.mandate`, type: MANDATE_POINTER, created: ctx.now(), data: { mandate: mandate.id }, index: [] });
  if (!verified) {
    pi.status = 'requires_action';
    pi.next_action = microdepositAction(ctx, pi.id);
    // The failMicrodeposits test account: the microdeposits bounce, failing the payment.
    if (bankMicrodepositsFail((await loadRefKey(ctx, pm.id)) ?? '')) {
      await scheduleTimer(ctx, { kind: MICRODEPOSIT_FAIL_KIND, key: pi.id, at: ctx.now() + BANK_SETTLE_SECONDS, testClock: await customerTestClock(ctx, pi.customer) });
    }
    return savePi(pi, 'payment_intent.requires_action');
  }
  return startDebit(ctx, pi, pm, mandate.id, savePi);
}

/** The debit itself: a pending charge, the intent processing, and the settlement timer. */
async function startDebit(ctx: WriteContext, pi: Obj, pm: Obj, mandate: string | null, savePi: (next: Obj, eventType: string) => Promise<Obj>): Promise<Obj> {
  const type = pm.type as string;
  const b = pm[type] as Obj;
  const methodDetails: Obj = type === 'us_bank_account'
    ? { type, us_bank_account: { account_holder_type: b.account_holder_type, account_type: b.account_type, bank_name: b.bank_name, fingerprint: b.fingerprint, last4: b.last4, mandate, payment_reference: null, routing_number: b.routing_number } }
    : { type, sepa_debit: { bank_code: b.bank_code, branch_code: b.branch_code, country: b.country, fingerprint: b.fingerprint, last4: b.last4, mandate } };
  const charge = await insertCharge(ctx, {
    amount: pi.amount, currency: pi.currency, customer: pi.customer, description: pi.description, metadata: pi.metadata,
    payment_intent: pi.id, paymentMethod: pm, outcome: {
      advice_code: null, network_advice_code: null, network_decline_code: null, network_status: 'approved_by_network', reason: null,
      risk_level: 'not_assessed', risk_score: null, seller_message: 'Payment complete.', type: 'authorized',
    },
    checks: { address_line1_check: null, address_postal_code_check: null, cvc_check: null }, threeDS: null,
    succeeded: false, pending: true, captured: true, receipt_email: pi.receipt_email, shipping: pi.shipping,
    statement_descriptor: pi.statement_descriptor, statement_descriptor_suffix: pi.statement_descriptor_suffix, transfer_group: pi.transfer_group,
    balance_transaction: null, methodDetails,
  });
  const key = (await loadRefKey(ctx, pm.id)) ?? '';
  if (!bankStaysProcessing(key)) {
    await scheduleTimer(ctx, { kind: SETTLE_KIND, key: pi.id, at: ctx.now() + bankSettleSeconds(key), testClock: await customerTestClock(ctx, pi.customer) });
  }
  pi.status = 'processing';
  pi.next_action = null;
  pi.latest_charge = charge.id;
  return savePi(pi, 'payment_intent.processing');
}

export interface MicrodepositParams { amounts?: number[]; descriptor_code?: string }

/**
 * Checks microdeposit values for a bank PaymentMethod. Returns when verified; throws Stripe's
 * error otherwise. `fail` is called (before the error commits) when the account can no longer be
 * verified (attempts exceeded, timeout), to fail the intent.
 */
export async function checkMicrodeposits(ctx: WriteContext, pmId: string, p: MicrodepositParams, fail: (err: { code: string; message: string }) => Promise<Obj>, intentField: 'payment_intent' | 'setup_intent', intent: Obj): Promise<void> {
  if (p.amounts !== undefined && p.descriptor_code !== undefined) throw invalidRequest('You may only specify one of these parameters: amounts, descriptor_code.');
  if (p.amounts === undefined && p.descriptor_code === undefined) throw invalidRequest('You must provide either amounts or descriptor_code.');
  if (p.amounts !== undefined && p.amounts.length !== 2) {
    throw new StripeError(400, { type: 'invalid_request_error', ...MICRODEPOSIT_ERRORS.amounts_invalid, param: 'amounts', [intentField]: intent });
  }
  const state = await loadBankVerification(ctx, pmId);
  let outcome = microdepositOutcome(p);
  if (outcome === 'mismatch' && state.failedAttempts + 1 >= MICRODEPOSIT_ATTEMPTS) outcome = 'attempts_exceeded';
  if (outcome === 'verified') { await saveBankVerification(ctx, pmId, { verified: true, failedAttempts: state.failedAttempts }); return; }
  if (outcome === 'mismatch') {
    await saveBankVerification(ctx, pmId, { verified: false, failedAttempts: state.failedAttempts + 1 });
    const e = p.amounts !== undefined ? MICRODEPOSIT_ERRORS.mismatch_amounts : MICRODEPOSIT_ERRORS.mismatch_descriptor;
    throw new StripeError(400, { type: 'invalid_request_error', ...e, param: p.amounts !== undefined ? 'amounts' : 'descriptor_code', [intentField]: intent }).committing();
  }
  const e = MICRODEPOSIT_ERRORS[outcome];
  await saveBankVerification(ctx, pmId, { verified: false, failedAttempts: MICRODEPOSIT_ATTEMPTS });
  const failed = await fail(e);
  throw new StripeError(400, { type: 'invalid_request_error', ...e, [intentField]: failed }).committing();
}

/** POST /v1/payment_intents/{id}/verify_microdeposits. */
export async function verifyIntentMicrodeposits(ctx: WriteContext, row: StoredObject, p: MicrodepositParams, savePi: (next: Obj, eventType: string) => Promise<Obj>): Promise<Obj> {
  const pi = structuredClone(row.data);
  if (pi.status !== 'requires_action' || pi.next_action?.type !== 'verify_with_microdeposits') {
    throw new StripeError(400, {
      type: 'invalid_request_error', code: 'payment_intent_unexpected_state', payment_intent: pi,
      message: `This PaymentIntent's payment method could not be verified because the PaymentIntent has a status of ${pi.status}. Only a PaymentIntent awaiting microdeposit verification (status requires_action, next_action verify_with_microdeposits) can be verified.`,
    });
  }
  const pmRow = (await ctx.tx.get(ctx.scope, pi.payment_method))!;
  await checkMicrodeposits(ctx, pmRow.id, p, async (err) => {
    Object.assign(pi, {
      status: 'requires_payment_method', next_action: null, payment_method: null,
      last_payment_error: { code: err.code, doc_url: `https://stripe.com/docs/error-codes/${err.code.replace(/_/g, '-')}`, message: err.message, payment_method: pmRow.data, type: 'invalid_request_error' },
    });
    return savePi(pi, 'payment_intent.payment_failed');
  }, 'payment_intent', pi);
  const mandate = await intentMandate(ctx, pi.id);
  await activateMandate(ctx, mandate);
  return startDebit(ctx, pi, pmRow.data, mandate, savePi);
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
  const refKey = (await loadRefKey(w, piRow.data.payment_method)) ?? '';
  const failure = bankOutcome(refKey);
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
    const savedPi = await write(w, piRow, pi, null);
    await emitEvent(w, 'payment_intent.succeeded', savedPi);
    await notifyPaymentIntentSucceeded(w, savedPi);
    // The dispute test account: the customer's bank then returns the debit as unauthorized.
    if (bankDisputes(refKey)) await openBankDispute(w, savedCh.id);
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
    const failedPi = await write(w, piRow, pi, null);
    await emitEvent(w, 'payment_intent.payment_failed', failedPi);
    await notifyPaymentIntentFailed(w, failedPi);
  }
}

registerTimeHandler(SETTLE_KIND, { run: (ctx, item) => settleBankDebit(ctx, item.key) });

const MICRODEPOSIT_FAILED = { code: 'payment_method_microdeposit_failed', message: "Microdeposits failed to deposit into the customer's bank account. Check the account, institution and transit numbers." };

/** The microdeposits to a failMicrodeposits account bounced: the intent awaiting them fails. */
async function failMicrodeposits(w: WriteContext, id: string): Promise<void> {
  const piRow = await w.tx.getForUpdate(w.scope, id);
  if (!piRow || piRow.type !== 'payment_intent' || piRow.data.status !== 'requires_action' || piRow.data.next_action?.type !== 'verify_with_microdeposits') return;
  const pi = structuredClone(piRow.data);
  const pmRow = await w.tx.get(w.scope, pi.payment_method);
  Object.assign(pi, {
    status: 'requires_payment_method', next_action: null, payment_method: null,
    last_payment_error: { ...MICRODEPOSIT_FAILED, doc_url: 'https://stripe.com/docs/error-codes/payment-method-microdeposit-failed', payment_method: pmRow?.data ?? null, type: 'invalid_request_error' },
  });
  const failed = await write(w, piRow, pi, null);
  await emitEvent(w, 'payment_intent.payment_failed', failed);
  await notifyPaymentIntentFailed(w, failed);
}

registerTimeHandler(MICRODEPOSIT_FAIL_KIND, { run: (ctx, item) => failMicrodeposits(ctx, item.key) });
